// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* sock.c: the SysFlow unix socket: a SOCK_SEQPACKET client that sends one
 * Avro-encoded record per datagram (sf-processor listens on "unixpacket").
 * When the peer goes away it reconnects with a doubling backoff and gives
 * up after SOCK_ATTEMPTS tries; records meanwhile are counted as dropped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "core/core.h"
#include "telemetry_int.h"

#define SOCK_FIRST_RETRY_S 1 /* sf-collector waits 10 s; tests need less */
#define SOCK_ATTEMPTS 6 /* 1+2+4+8+16+32 s, about a minute */

struct tel_sock {
	struct sockaddr_un addr;
	int fd;
	time_t next_try;
	int backoff;
	int attempts;
	uint64_t reconnects;
	uint64_t dropped;
	int last_err;
};

static int sock_connect(struct tel_sock *s)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&s->addr, sizeof(s->addr))) {
		int e = -errno;

		close(fd);
		return e;
	}
	s->fd = fd;
	return 0;
}

int tel_sock_open(struct tel_sock **out, const char *path,
		  struct sysflow_error *err)
{
	struct tel_sock *s = calloc(1, sizeof(*s));
	int e;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->addr.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(s->addr.sun_path)) {
		tel_set_error(err, SYSFLOW_NAME_TOO_LONG,
			      "socket path %s is "
			      "longer than %zu bytes",
			      path, sizeof(s->addr.sun_path) - 1);
		free(s);
		return -ENAMETOOLONG;
	}
	strcpy(s->addr.sun_path, path);
	e = sock_connect(s);
	if (e) {
		tel_set_error(
			err, SYSFLOW_ERROR_READING_FILESYSTEM,
			"cannot connect to the SysFlow socket %s: %s; is "
			"a SOCK_SEQPACKET server (sf-processor) listening "
			"there?",
			path, strerror(-e));
		free(s);
		return e;
	}
	*out = s;
	return 0;
}

int tel_sock_send(struct tel_sock *s, const void *buf, size_t len)
{
	if (s->fd < 0) {
		s->dropped++;
		return -ENOTCONN;
	}
	if (send(s->fd, buf, len, MSG_NOSIGNAL) < 0) {
		int e = -errno;

		if (e == -EINTR && send(s->fd, buf, len, MSG_NOSIGNAL) >= 0)
			return 0;
		pr_warn("SysFlow socket %s: %s; reconnecting\n",
			s->addr.sun_path, strerror(-e));
		close(s->fd);
		s->fd = -1;
		s->backoff = SOCK_FIRST_RETRY_S;
		s->attempts = 0;
		s->next_try = time(NULL) + s->backoff;
		s->dropped++;
		return e;
	}
	return 0;
}

bool tel_sock_connected(const struct tel_sock *s)
{
	return s->fd >= 0;
}

int tel_sock_retry(struct tel_sock *s, time_t now, struct sysflow_error *err)
{
	int e;

	if (s->fd >= 0 || now < s->next_try)
		return 0;
	e = sock_connect(s);
	if (!e) {
		s->reconnects++;
		pr_info("reconnected to SysFlow socket %s\n", s->addr.sun_path);
		return 1;
	}
	s->last_err = -e;
	if (++s->attempts >= SOCK_ATTEMPTS) {
		tel_set_error(err, SYSFLOW_ERROR_READING_FILESYSTEM,
			      "SysFlow socket %s is gone (%s); gave up after "
			      "%d attempts",
			      s->addr.sun_path, strerror(-e), s->attempts);
		return -EPIPE;
	}
	s->backoff *= 2;
	s->next_try = now + s->backoff;
	pr_debug("SysFlow socket %s: %s; next try in %d s\n", s->addr.sun_path,
		 strerror(-e), s->backoff);
	return 0;
}

uint64_t tel_sock_reconnects(const struct tel_sock *s)
{
	return s->reconnects;
}

uint64_t tel_sock_dropped(const struct tel_sock *s)
{
	return s->dropped;
}

void tel_sock_close(struct tel_sock *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}
