/* cmd_itl.c: placeholder, being written (see its issue). */
