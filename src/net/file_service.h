/*
 * file_service.h: the daemon's file service over the provisioning folder
 * (the state's tftp_dir, where ITLFile.tlv is published): TFTP
 * (tftp_server.h), HTTP and HTTPS (http_files.h), each optional, on one
 * event loop of their own thread, and the [files] section of the
 * configuration.
 */
#ifndef OPENCAPF_NET_FILE_SERVICE_H
#define OPENCAPF_NET_FILE_SERVICE_H

#include "common/util.h"

struct file_service_cfg {
	char tftp_listen[128];     /* "" or "off" = disabled (the default) */
	char http_listen[128];     /* "" or "off" = disabled (the default); phones use 6970 */
	char https_listen[128];    /* "" or "off" = disabled (the default); phones use 6971 */
	char https_cert[1024];     /* PEM certificate for HTTPS (an EC key, role TFTP in the ITL) */
	char https_key[1024];      /* its private key (PEM) */
	int tftp_timeout_ms;       /* retransmission timeout (default 1000) */
	int tftp_retries;          /* retransmissions before a transfer is given up (default 5) */
	int tftp_max_transfers;    /* transfers at once (default 1024; two descriptors each) */
	int tftp_max_per_address; /* transfers at once from one address (default 64) */
};

void file_service_defaults(struct file_service_cfg *c);
/* One [files] setting: tftp_listen, http_listen, https_listen, https_cert,
 * https_key, tftp_timeout_ms, tftp_retries, tftp_max_transfers,
 * tftp_max_per_address. 0 set, -1 bad value, -2 unknown key. */
int file_service_config_set(struct file_service_cfg *c, const char *key, const char *value);
/* Whether any listener is configured. */
int file_service_enabled(const struct file_service_cfg *c);

struct file_service;

/* Bind the configured listeners over dir and start the thread. NULL with
 * err when something could not be bound (nothing is left running). */
struct file_service *file_service_start(const struct file_service_cfg *c, const char *dir,
					char *err, size_t errlen);
void file_service_stop(struct file_service *fs);

/* Append the TFTP and HTTP file counters for /metrics. */
void file_service_metrics_render(struct buf *out);

#endif
