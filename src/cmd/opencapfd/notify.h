/*
 * notify.h: telling systemd about the daemon's state (the sd_notify(3)
 * protocol: one datagram to $NOTIFY_SOCKET), without linking libsystemd.
 * Outside systemd (no NOTIFY_SOCKET) every call does nothing.
 */
#ifndef OPENCAPFD_NOTIFY_H
#define OPENCAPFD_NOTIFY_H

/* Send "READY=1", "STOPPING=1", "STATUS=..." (newline-separated
 * assignments). 1 sent, 0 not under systemd, -1 on a socket error. */
int notify_send(const char *state);

#endif
