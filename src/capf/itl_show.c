/* itl_show.c: placeholder, being written (see its issue). */
