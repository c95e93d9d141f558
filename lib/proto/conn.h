/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* conn.h: one SysFlow connection, plain TCP or mutual TLS (OpenSSL), on a
 * non-blocking socket: a stream decoder for what comes in and a buffer for
 * what goes out. Used by both the agent and the controller; neither blocks
 * on a slow peer.
 */
#ifndef __SYSFLOW_CONN_H
#define __SYSFLOW_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sysflow/proto.h>

struct sf_tls_opts {
	const char *cert; /* PEM certificate of this side */
	const char *key; /* PEM private key */
	const char *ca; /* PEM CA that signed the peer's certificate */
};

struct sf_tls;

/* A TLS context; the server side requires a client certificate signed by
 * the CA (mutual TLS). NULL and *err on failure, after logging why.
 */
struct sf_tls *sf_tls_new(const struct sf_tls_opts *o, bool server, int *err);
void sf_tls_free(struct sf_tls *t);

struct sf_conn {
	int fd;
	void *ssl; /* SSL *, NULL for plain TCP */
	bool handshaking; /* TLS handshake not finished */
	bool tls_want_write; /* OpenSSL needs the socket writable */
	struct sfp_stream in;
	struct sfp_buf out;
	char peer[80]; /* "addr:port", for logs */
	char peer_cn[64]; /* TLS: the peer certificate's common name */
	uint64_t last_rx_ms; /* monotonic ms of the last byte received */
	uint64_t last_tx_ms;
	uint8_t version; /* negotiated protocol version, 0 before HELLO */
	uint32_t next_xid;
};

/* Wrap a connected non-blocking socket. host (client side) is checked
 * against the server certificate's names.
 */
int sf_conn_init(struct sf_conn *c, int fd, struct sf_tls *tls, bool server,
		 const char *host);
/* Drive the TLS handshake: 0 done, -EAGAIN in progress, else failed. */
int sf_conn_handshake(struct sf_conn *c);
/* Read what the socket has into c->in: bytes read (> 0), 0 at EOF,
 * -EAGAIN when nothing is there, or a negative errno.
 */
ssize_t sf_conn_read(struct sf_conn *c);
/* Write buffered bytes: 0 when all are out, -EAGAIN when some remain. */
int sf_conn_flush(struct sf_conn *c);
/* Encode m (xid 0 takes the next one) and flush. Returns the xid used or
 * a negative errno. The header version is the negotiated one.
 */
int64_t sf_conn_send(struct sf_conn *c, struct sfp_msg *m);
int sf_conn_send_simple(struct sf_conn *c, uint8_t type, uint32_t xid);
int sf_conn_send_error(struct sf_conn *c, uint32_t xid, int sfp_err,
		       const void *offending, size_t len);
/* ECHO_REQUEST carrying an 8-byte stamp. */
int sf_conn_send_echo(struct sf_conn *c, const uint8_t stamp[8]);
bool sf_conn_pending(const struct sf_conn *c);
void sf_conn_close(struct sf_conn *c);

/* Monotonic milliseconds. */
uint64_t sf_now_ms(void);

/* Resolve host and port; connect a non-blocking TCP socket. Returns the fd
 * (connect may still be in progress) or a negative errno.
 */
int sf_tcp_connect(const char *host, const char *port);
/* A listening non-blocking TCP socket on host:port ("" or NULL: any). */
int sf_tcp_listen(const char *host, const char *port);

#endif /* __SYSFLOW_CONN_H */
