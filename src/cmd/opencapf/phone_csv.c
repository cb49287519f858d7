/* phone_csv.c: placeholder, being written (see its issue). */
