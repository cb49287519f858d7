/*
 * addr.c: parsing listener addresses and printing peers.
 */
#include "net/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/setting.h"
#include "common/util.h"

int addr_parse(const char *text, struct sockaddr_storage *ss, socklen_t *len, char *err, size_t errlen)
{
	char host[128];
	const char *colon;
	char *end;
	long port;

	memset(ss, 0, sizeof *ss);
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host)
			goto bad;
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || (size_t)(colon - text) >= sizeof host)
			goto bad;
		memcpy(host, text, (size_t)(colon - text));
		host[colon - text] = '\0';
	}
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
		goto bad;
	if (strchr(host, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			goto bad;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		if (strcmp(host, "localhost") == 0)
			snprintf(host, sizeof host, "127.0.0.1");
		if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &s4->sin_addr) != 1)
			goto bad;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof *s4;
	}
	return 0;
bad:
	seterr(err, errlen, "'%s' is not a listen address: expected ADDR:PORT, e.g. 127.0.0.1:3804 or [::1]:3804",
	       text);
	return -1;
}

int addr_listen_setting(char *dst, size_t cap, const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (text[0] && strcmp(text, "off") != 0 && addr_parse(text, &ss, &len, NULL, 0) < 0)
		return setting_refuse("ADDR:PORT, e.g. 0.0.0.0:3804 or [::]:3804, or off");
	return setting_str(dst, cap, text);
}

int addr_check_free(const struct sockaddr *sa, socklen_t len, const char *text, char *err, size_t errlen)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, rc = 0;

	if (fd < 0) {
		seterr(err, errlen, "cannot listen on %s: %s", text, strerror(errno));
		return -1;
	}
	/* SO_REUSEADDR (not PORT) still allows restarting over TIME_WAIT sockets. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, sa, len) < 0) {
		seterr(err, errlen, "cannot listen on %s: %s%s", text, strerror(errno),
		       errno == EADDRINUSE ? " (another opencapfd or program listens there)" : "");
		rc = -1;
	}
	close(fd);
	return rc;
}

void addr_host(const struct sockaddr *sa, char *out, size_t outcap)
{
	if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)outcap);
	else if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outcap);
	else
		snprintf(out, outcap, "?");
}
