/* itl_file.c: placeholder, being written (see its issue). */
