/*
 * itl_show.h: `opencapf itl show` / `ctl show`: print an ITL or CTL file in
 * the layout of the vendor's `show itl` (docs/protocol/tvs-and-itl.md) and
 * say whether it verifies.
 *
 * Output: "Length of ITL file: N", the header as a table, then per record
 *
 *   ITL Record #:1
 *   ----
 *   BYTEPOS TAG              LENGTH  VALUE
 *   -------  ---              ------  -----
 *   1        RECORDLENGTH     2       1692
 *   ...
 *
 * (the first column is the tag number, as the vendor prints it), a line
 * after each SAST record saying whether that token signed the file, and
 * last either "The ITL file was verified successfully." or
 * "Verification of the ITL file failed: <reason>." ("CTL" for a CTL file).
 * Reads files from any writer: whole certificates or only their hashes,
 * names in the vendor's or RFC 4514 form, unknown tags (printed, and
 * reported as the reason the file is not accepted).
 */
#ifndef OPENCAPF_CAPF_ITL_SHOW_H
#define OPENCAPF_CAPF_ITL_SHOW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* 0 when the file verified; -1 otherwise, with the reason also in err. */
int itl_show(FILE *out, const uint8_t *data, size_t len, char *err, size_t errlen);

/* The vendor's word for a role: "System Administrator Security Token" for
 * SAST, else the role table's name, else "Unknown (N)". */
void itl_role_label(uint16_t role, char *out, size_t outcap);

#endif
