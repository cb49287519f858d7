/* cmd_tvs.c: placeholder, being written (see its issue). */
