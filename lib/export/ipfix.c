// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* ipfix.c: IPFIX (RFC 7011) export of flowmon's flows to a UDP collector:
 * message assembly, template refresh, sequence numbers and the socket.
 */
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include "core/core.h"
#include "export/ipfix.h"

#define DEFAULT_DOMAIN_ID 1
#define DEFAULT_REFRESH_S 600
#define DEFAULT_MTU 1400

struct sf_ipfix {
	struct sf_ipfix_io io;
	int fd;
	char *dest;
	uint32_t domain_id;
	uint32_t refresh_s;
	size_t mtu;
	uint8_t *buf; /* the message being built, mtu bytes */
	size_t len; /* bytes used; 0 when no message is started */
	size_t set_off; /* header of the open data set; 0 when none */
	uint16_t set_id;
	uint32_t nr_recs; /* data records in the message */
	uint32_t seq; /* data records in earlier messages, mod 2^32 */
	bool msg_tmpl; /* the message carries the templates */
	bool tmpl_sent; /* templates sent and no send failed since */
	uint64_t tmpl_time;
	uint64_t fail_streak; /* messages failed in a row */
	struct sf_ipfix_stats st;
};

/* ---- destinations ---- */

static int gai_errno(int gai)
{
	switch (gai) {
	case EAI_SYSTEM:
		return errno ? -errno : -EIO;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_AGAIN:
		return -EAGAIN;
	default:
		return -ENXIO;
	}
}

/* A UDP socket connected to ai, or -errno. */
static int try_connect(const struct addrinfo *ai)
{
	int fd, err;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
		return fd;
	err = -errno;
	close(fd);
	return err;
}

/* Resolve dest and return a connected UDP socket, or -errno. */
static int collector_connect(const char *dest)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL, *ai;
	char host[NI_MAXHOST], port[6];
	int ret;

	ret = sf_ipfix_parse_dest(dest, host, sizeof(host), port);
	if (ret) {
		pr_err("invalid IPFIX collector '%s': expected host[:port] or [ipv6-address][:port], port 1-65535\n",
		       dest);
		return ret;
	}
	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		pr_err("cannot resolve IPFIX collector '%s': %s\n", dest,
		       gai_strerror(ret));
		return gai_errno(ret);
	}
	ret = -EADDRNOTAVAIL;
	for (ai = res; ai && ret < 0; ai = ai->ai_next)
		ret = try_connect(ai);
	if (ret < 0)
		pr_err("cannot connect to IPFIX collector '%s': %s (%d)\n",
		       dest, strerror(-ret), ret);
	freeaddrinfo(res);
	return ret;
}

/* ---- messages ---- */

static bool templates_due(const struct sf_ipfix *x, uint64_t now)
{
	/* a clock that stepped back counts as due */
	return !x->tmpl_sent || now < x->tmpl_time ||
	       now - x->tmpl_time >= x->refresh_s;
}

static void note_sent(struct sf_ipfix *x, uint32_t nr_recs, bool tmpl,
		      uint64_t now)
{
	if (x->fail_streak)
		pr_info("IPFIX export to '%s' works again after %llu failed messages\n",
			x->dest, (unsigned long long)x->fail_streak);
	x->fail_streak = 0;
	x->st.messages++;
	x->st.records += nr_recs;
	if (tmpl) {
		x->st.template_sets++;
		x->tmpl_sent = true;
		x->tmpl_time = now;
	}
}

/* Log the first failure of a run; the records are lost, and the next
 * message carries the templates again in case the collector restarted.
 */
static void note_failed(struct sf_ipfix *x, int err, uint32_t nr_recs)
{
	x->st.send_errors++;
	x->st.records_lost += nr_recs;
	x->tmpl_sent = false;
	if (!x->fail_streak++)
		pr_warn("cannot send IPFIX message to '%s': %s (%d)%s; %u flow records lost, retrying with the next message\n",
			x->dest, strerror(-err), err,
			err == -ECONNREFUSED ? ", is the collector running?" :
					       "",
			nr_recs);
	else
		pr_debug("IPFIX send to '%s' failed again: %s\n", x->dest,
			 strerror(-err));
}

/* The sequence number counts every data record handed to the network, so
 * the collector sees records lost to a failed send as a gap.
 */
static void transmit(struct sf_ipfix *x, uint8_t *msg, size_t len,
		     uint32_t nr_recs, bool tmpl, uint64_t now)
{
	int err;

	sf_ipfix_encode_header(msg, len, now, x->seq, x->domain_id);
	err = x->io.send(x->io.ctx, msg, len);
	x->seq += nr_recs;
	if (err)
		note_failed(x, err, nr_recs);
	else
		note_sent(x, nr_recs, tmpl, now);
}

/* The set header is written once the set's length is known. */
static void set_close(struct sf_ipfix *x)
{
	if (!x->set_off)
		return;
	sf_ipfix_encode_set_header(x->buf + x->set_off, x->set_id,
				   x->len - x->set_off);
	x->set_off = 0;
	x->set_id = 0;
}

static void set_open(struct sf_ipfix *x, uint16_t id)
{
	x->set_off = x->len;
	x->set_id = id;
	x->len += SF_IPFIX_SET_HDR_LEN;
}

static void msg_start(struct sf_ipfix *x)
{
	x->len = SF_IPFIX_HDR_LEN;
	x->nr_recs = 0;
	x->msg_tmpl = templates_due(x, x->io.now(x->io.ctx));
	if (x->msg_tmpl)
		x->len += sf_ipfix_encode_templates(x->buf + x->len,
						    x->mtu - x->len);
}

/* Templates fell due while records were buffered: put them in front of the
 * data sets, or send them alone first if there is no room.
 */
static void msg_add_templates(struct sf_ipfix *x, uint64_t now)
{
	uint8_t alone[SF_IPFIX_HDR_LEN + SF_IPFIX_TMPL_SET_LEN];
	uint8_t *data = x->buf + SF_IPFIX_HDR_LEN;

	if (x->len + SF_IPFIX_TMPL_SET_LEN <= x->mtu) {
		memmove(data + SF_IPFIX_TMPL_SET_LEN, data,
			x->len - SF_IPFIX_HDR_LEN);
		sf_ipfix_encode_templates(data, SF_IPFIX_TMPL_SET_LEN);
		x->len += SF_IPFIX_TMPL_SET_LEN;
		x->msg_tmpl = true;
		return;
	}
	sf_ipfix_encode_templates(alone + SF_IPFIX_HDR_LEN,
				  SF_IPFIX_TMPL_SET_LEN);
	transmit(x, alone, sizeof(alone), 0, true, now);
}

static void msg_send(struct sf_ipfix *x)
{
	uint64_t now = x->io.now(x->io.ctx);

	set_close(x);
	if (!x->msg_tmpl && templates_due(x, now))
		msg_add_templates(x, now);
	transmit(x, x->buf, x->len, x->nr_recs, x->msg_tmpl, now);
	x->len = 0;
	x->nr_recs = 0;
	x->msg_tmpl = false;
}

int sf_ipfix_add(struct sf_ipfix *x, const struct sf_flow *f)
{
	size_t need;
	int id, ret;

	id = sf_ipfix_flow_template(f, &need);
	if (id < 0)
		return id;
	if (x->set_id != id)
		need += SF_IPFIX_SET_HDR_LEN;
	if (x->len && x->len + need > x->mtu)
		msg_send(x);
	if (!x->len)
		msg_start(x);
	if (x->set_id != id) {
		set_close(x);
		set_open(x, id);
	}
	ret = sf_ipfix_encode_record(f, x->buf + x->len, x->mtu - x->len);
	if (ret < 0)
		return ret; /* cannot happen with mtu >= SF_IPFIX_MTU_MIN */
	x->len += ret;
	x->nr_recs++;
	return 0;
}

int sf_ipfix_flush(struct sf_ipfix *x)
{
	if (x->len)
		msg_send(x);
	return 0;
}

/* ---- open and close ---- */

static int sock_send(void *ctx, const void *msg, size_t len)
{
	struct sf_ipfix *x = ctx;
	ssize_t n;

	do {
		n = send(x->fd, msg, len, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EMSGSIZE;
}

static uint64_t wall_now(void *ctx)
{
	(void)ctx;
	return time(NULL);
}

static void ipfix_free(struct sf_ipfix *x)
{
	if (x->fd >= 0)
		close(x->fd);
	free(x->buf);
	free(x->dest);
	free(x);
}

static int check_opts(const struct sf_ipfix_opts *o, size_t mtu)
{
	if (mtu < SF_IPFIX_MTU_MIN || mtu > SF_IPFIX_MTU_MAX) {
		pr_err("IPFIX message size %zu for '%s' is out of range (%d-%d)\n",
		       mtu, o->dest ? o->dest : "", SF_IPFIX_MTU_MIN,
		       SF_IPFIX_MTU_MAX);
		return -EINVAL;
	}
	return 0;
}

struct sf_ipfix *sf_ipfix_open_io(const struct sf_ipfix_opts *o,
				  const struct sf_ipfix_io *io, int *err)
{
	size_t mtu = o->mtu ? o->mtu : DEFAULT_MTU;
	struct sf_ipfix *x;

	*err = check_opts(o, mtu);
	if (*err)
		return NULL;
	*err = -ENOMEM;
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->fd = -1;
	x->io = *io;
	x->mtu = mtu;
	x->domain_id = o->domain_id ? o->domain_id : DEFAULT_DOMAIN_ID;
	x->refresh_s = o->template_refresh_s ? o->template_refresh_s :
					       DEFAULT_REFRESH_S;
	x->dest = strdup(o->dest ? o->dest : "(custom output)");
	x->buf = malloc(mtu);
	if (!x->dest || !x->buf)
		goto cleanup;
	*err = 0;
	return x;
cleanup:
	ipfix_free(x);
	return NULL;
}

struct sf_ipfix *sf_ipfix_open(const struct sf_ipfix_opts *o, int *err)
{
	struct sf_ipfix_io io = { .send = sock_send, .now = wall_now };
	struct sf_ipfix *x;
	int fd;

	if (!o->dest || !*o->dest) {
		pr_err("no IPFIX collector given (expected host[:port])\n");
		*err = -EINVAL;
		return NULL;
	}
	x = sf_ipfix_open_io(o, &io, err);
	if (!x)
		return NULL;
	fd = collector_connect(o->dest);
	if (fd < 0) {
		*err = fd;
		ipfix_free(x);
		return NULL;
	}
	x->fd = fd;
	x->io.ctx = x;
	pr_debug("exporting IPFIX to '%s', domain %u, MTU %zu\n", x->dest,
		 x->domain_id, x->mtu);
	return x;
}

void sf_ipfix_close(struct sf_ipfix *x)
{
	if (!x)
		return;
	sf_ipfix_flush(x);
	ipfix_free(x);
}

void sf_ipfix_get_stats(const struct sf_ipfix *x, struct sf_ipfix_stats *st)
{
	*st = x->st;
}
