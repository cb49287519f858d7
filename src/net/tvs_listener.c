/* tvs_listener.c: placeholder, being written (see its issue). */
