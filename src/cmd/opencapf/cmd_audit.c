/* cmd_audit.c: placeholder, being written (see its issue). */
