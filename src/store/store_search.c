/* store_search.c: placeholder, being written (see its issue). */
