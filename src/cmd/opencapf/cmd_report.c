/* cmd_report.c: placeholder, being written (see its issue). */
