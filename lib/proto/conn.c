// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* conn.c: a SysFlow connection over non-blocking TCP, optionally mutual
 * TLS with OpenSSL. Reads feed the stream decoder; writes go through a
 * buffer flushed when the socket is writable.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sysflow/log.h>
#include "core/core.h"
#include "conn.h"

struct sf_tls {
	SSL_CTX *ctx;
};

uint64_t sf_now_ms(void)
{
	return sf_clock_ns(CLOCK_MONOTONIC) / 1000000;
}

static const char *ssl_err(void)
{
	static char buf[256];
	unsigned long e = ERR_get_error();

	if (!e)
		return "unknown TLS error";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

struct sf_tls *sf_tls_new(const struct sf_tls_opts *o, bool server, int *err)
{
	struct sf_tls *t = calloc(1, sizeof(*t));

	*err = -EINVAL;
	if (!t) {
		*err = -ENOMEM;
		return NULL;
	}
	if (!o->cert || !o->key || !o->ca) {
		pr_err("TLS needs --tls-cert, --tls-key and --tls-ca together\n");
		goto fail;
	}
	t->ctx =
		SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!t->ctx) {
		pr_err("cannot create a TLS context: %s\n", ssl_err());
		goto fail;
	}
	SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, o->cert) != 1) {
		pr_err("cannot load certificate %s: %s\n", o->cert, ssl_err());
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(t->ctx, o->key, SSL_FILETYPE_PEM) !=
		    1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1) {
		pr_err("cannot load private key %s (does it match %s?): %s\n",
		       o->key, o->cert, ssl_err());
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(t->ctx, o->ca, NULL) != 1) {
		pr_err("cannot load CA %s: %s\n", o->ca, ssl_err());
		goto fail;
	}
	SSL_CTX_set_verify(t->ctx,
			   SSL_VERIFY_PEER |
				   (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT :
					     0),
			   NULL);
	*err = 0;
	return t;
fail:
	sf_tls_free(t);
	return NULL;
}

void sf_tls_free(struct sf_tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

int sf_conn_init(struct sf_conn *c, int fd, struct sf_tls *tls, bool server,
		 const char *host)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[INET6_ADDRSTRLEN] = "?";
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->next_xid = 1;
	sfp_stream_init(&c->in, SFP_MAX_MSG);
	c->last_rx_ms = c->last_tx_ms = sf_now_ms();
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!getpeername(fd, (struct sockaddr *)&ss, &sl)) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
			snprintf(c->peer, sizeof(c->peer), "%s:%u", addr,
				 ntohs(s4->sin_port));
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
			snprintf(c->peer, sizeof(c->peer), "[%s]:%u", addr,
				 ntohs(s6->sin6_port));
		}
	}
	if (!c->peer[0])
		snprintf(c->peer, sizeof(c->peer), "%s", host ? host : "peer");
	if (!tls)
		return 0;
	c->ssl = SSL_new(tls->ctx);
	if (!c->ssl)
		return -ENOMEM;
	SSL_set_fd(c->ssl, fd);
	if (server) {
		SSL_set_accept_state(c->ssl);
	} else {
		struct in6_addr tmp;

		SSL_set_connect_state(c->ssl);
		if (host && (inet_pton(AF_INET, host, &tmp) == 1 ||
			     inet_pton(AF_INET6, host, &tmp) == 1))
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
						      host);
		else if (host)
			SSL_set1_host(c->ssl, host);
	}
	c->handshaking = true;
	return 0;
}

int sf_conn_handshake(struct sf_conn *c)
{
	X509 *peer;
	int rc, e;

	if (!c->handshaking)
		return 0;
	ERR_clear_error();
	rc = SSL_do_handshake(c->ssl);
	if (rc == 1) {
		c->handshaking = false;
		c->tls_want_write = false;
		peer = SSL_get_peer_certificate(c->ssl);
		if (peer) {
			X509_NAME_get_text_by_NID(X509_get_subject_name(peer),
						  NID_commonName, c->peer_cn,
						  sizeof(c->peer_cn));
			X509_free(peer);
		}
		return 0;
	}
	e = SSL_get_error(c->ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->tls_want_write = e == SSL_ERROR_WANT_WRITE;
		return -EAGAIN;
	}
	pr_warn("TLS handshake with %s failed: %s\n", c->peer,
		e == SSL_ERROR_SSL     ? ssl_err() :
		e == SSL_ERROR_SYSCALL ? "connection closed" :
					 "protocol error");
	return -ECONNREFUSED;
}

ssize_t sf_conn_read(struct sf_conn *c)
{
	uint8_t buf[16384];
	ssize_t total = 0, n;

	for (;;) {
		if (c->ssl) {
			int e;

			ERR_clear_error();
			n = SSL_read(c->ssl, buf, sizeof(buf));
			if (n <= 0) {
				e = SSL_get_error(c->ssl, n);
				if (e == SSL_ERROR_WANT_READ ||
				    e == SSL_ERROR_WANT_WRITE)
					return total ? total : -EAGAIN;
				if (e == SSL_ERROR_ZERO_RETURN)
					return total ? total : 0;
				return total ? total : -ECONNRESET;
			}
		} else {
			n = read(c->fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return total	       ? total :
				       errno == EAGAIN ? -EAGAIN :
							 -errno;
			if (n == 0)
				return total ? total : 0;
		}
		if (sfp_stream_feed(&c->in, buf, n))
			return -ENOMEM;
		total += n;
		c->last_rx_ms = sf_now_ms();
		if ((size_t)n < sizeof(buf) && !(c->ssl && SSL_pending(c->ssl)))
			return total;
	}
}

int sf_conn_flush(struct sf_conn *c)
{
	while (c->out.len) {
		ssize_t n;

		if (c->ssl) {
			ERR_clear_error();
			n = SSL_write(c->ssl, c->out.data, c->out.len);
			if (n <= 0) {
				int e = SSL_get_error(c->ssl, n);

				if (e == SSL_ERROR_WANT_WRITE ||
				    e == SSL_ERROR_WANT_READ)
					return -EAGAIN;
				return -EPIPE;
			}
		} else {
			n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return errno == EAGAIN ? -EAGAIN : -errno;
		}
		sfp_buf_consume(&c->out, n);
		c->last_tx_ms = sf_now_ms();
	}
	return 0;
}

/* Output beyond this is not buffered: the peer does not read. */
#define OUT_LIMIT (8u << 20)

int64_t sf_conn_send(struct sf_conn *c, struct sfp_msg *m)
{
	int err;

	if (c->out.len > OUT_LIMIT)
		return -ENOBUFS;
	if (!m->h.xid)
		m->h.xid = c->next_xid++ ?: c->next_xid++;
	m->h.version = c->version ?: SFP_VERSION;
	err = sfp_encode(&c->out, m);
	if (err)
		return err;
	err = c->handshaking ? 0 : sf_conn_flush(c);
	if (err && err != -EAGAIN)
		return err;
	return m->h.xid;
}

int sf_conn_send_simple(struct sf_conn *c, uint8_t type, uint32_t xid)
{
	struct sfp_msg m;

	sfp_msg_simple(&m, type, xid);
	return sf_conn_send(c, &m) < 0 ? -EIO : 0;
}

int sf_conn_send_error(struct sf_conn *c, uint32_t xid, int sfp_err,
		       const void *offending, size_t len)
{
	struct sfp_msg m;

	sfp_msg_error(&m, xid, SFP_ERR_TYPE(sfp_err), SFP_ERR_CODE(sfp_err),
		      offending, len);
	return sf_conn_send(c, &m) < 0 ? -EIO : 0;
}

int sf_conn_send_echo(struct sf_conn *c, const uint8_t stamp[8])
{
	struct sfp_msg m = { .h = { .type = SFP_ECHO_REQUEST } };

	m.echo.data = stamp;
	m.echo.len = 8;
	return sf_conn_send(c, &m) < 0 ? -EIO : 0;
}

bool sf_conn_pending(const struct sf_conn *c)
{
	return c->out.len > 0 || c->tls_want_write;
}

void sf_conn_close(struct sf_conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	sfp_stream_free(&c->in);
	sfp_buf_free(&c->out);
}

static int resolve(const char *host, const char *port, bool passive,
		   struct addrinfo **res)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = passive ? AI_PASSIVE : 0,
	};
	int rc = getaddrinfo(host && *host ? host : NULL, port, &hints, res);

	if (rc) {
		pr_err("cannot resolve %s port %s: %s\n", host ? host : "*",
		       port, gai_strerror(rc));
		return -EINVAL;
	}
	return 0;
}

/* Connect fd to ai (a non-blocking connect may still be in progress), or
 * bind it there and listen when passive; 0 or -errno.
 */
static int start_tcp(int fd, const struct addrinfo *ai, bool passive)
{
	int one = 1;

	if (passive) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 1024))
			return -errno;
	} else if (connect(fd, ai->ai_addr, ai->ai_addrlen) &&
		   errno != EINPROGRESS) {
		return -errno;
	}
	return 0;
}

/* A non-blocking socket on the first address of host:port that works, or
 * the -errno of the last one that failed.
 */
static int tcp_socket(const char *host, const char *port, bool passive)
{
	struct addrinfo *res, *ai;
	int fd = passive ? -EADDRNOTAVAIL : -EHOSTUNREACH, err;

	if (resolve(host, port, passive, &res))
		return -EINVAL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
			    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			fd = -errno;
			continue;
		}
		err = start_tcp(fd, ai, passive);
		if (!err)
			break;
		close(fd);
		fd = err;
	}
	freeaddrinfo(res);
	return fd;
}

int sf_tcp_connect(const char *host, const char *port)
{
	return tcp_socket(host, port, false);
}

int sf_tcp_listen(const char *host, const char *port)
{
	int fd = tcp_socket(host, port, true);

	if (fd < 0)
		pr_err("cannot listen on %s:%s: %s\n", host ? host : "*", port,
		       strerror(-fd));
	return fd;
}
