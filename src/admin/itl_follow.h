/*
 * itl_follow.h: keeping a node's published ITL in step with the state it
 * shares with other nodes (docs/cluster.md). A CAPF, TVS or SAST/TFTP
 * certificate, or the ITL settings, changed through another node leave this
 * node's ITLFile.tlv behind; the daemon checks every few seconds and
 * republishes only when the file lists something else than the state would.
 *
 * Errors: -1 with an err sentence.
 */
#ifndef OPENCAPF_ADMIN_ITL_FOLLOW_H
#define OPENCAPF_ADMIN_ITL_FOLLOW_H

#include <stddef.h>

#include "store/store.h"

/* 1 when the published ITL lists what a publish now would: the same
 * records in the same order (each one's role and certificate, whole or as
 * its hash) and the same signer version, digest and signer name form. The
 * file's signature and timestamp are not compared (each build has its own).
 * 0 when it lists something else, is missing or does not decode; -1 when
 * the state cannot say what the ITL should list. */
int itl_published_current(struct store *st, char *err, size_t errlen);

/* Republish the ITL (itl_publish_from_state: no audit row) unless it is
 * current: 1 republished, 0 current already, -1 with err. */
int itl_follow(struct store *st, char *err, size_t errlen);

#endif
