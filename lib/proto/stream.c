// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* stream.c: cut a TCP (or TLS) byte stream into SysFlow messages. Reads may
 * split a message or carry several: bytes are kept until a whole message
 * is there, and every message behind it is returned in turn (the seed's
 * one-recv()-is-one-message framing lost both cases).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysflow/proto.h>
#include "core/grow.h"

void sfp_stream_init(struct sfp_stream *s, size_t max_msg)
{
	memset(s, 0, sizeof(*s));
	s->max_msg = max_msg ? max_msg : SFP_MAX_MSG;
}

void sfp_stream_free(struct sfp_stream *s)
{
	free(s->buf);
	memset(s, 0, sizeof(*s));
}

/* Drop the message returned last, so the buffer only grows to hold one
 * message plus one read.
 */
static void compact(struct sfp_stream *s)
{
	s->len = grow_drop_front(s->buf, s->len, s->consumed);
	s->consumed = 0;
}

int sfp_stream_feed(struct sfp_stream *s, const void *data, size_t len)
{
	int err;

	compact(s);
	err = grow_array(s->buf, s->cap, s->len, len, 4096);
	if (err)
		return err;
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return 0;
}

int sfp_stream_next(struct sfp_stream *s, const uint8_t **msg, size_t *len)
{
	const uint8_t *p;
	size_t avail;
	uint32_t mlen;

	compact(s);
	avail = s->len;
	if (avail < SFP_HEADER_LEN)
		return 0;
	p = s->buf;
	mlen = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 |
	       (uint32_t)p[6] << 8 | p[7];
	if (mlen < SFP_HEADER_LEN)
		return SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_BAD_LEN);
	if (mlen > s->max_msg)
		return SFP_ERR(SFP_ET_BAD_REQUEST, SFP_EC_TOO_BIG);
	if (avail < mlen)
		return 0;
	*msg = p;
	*len = mlen;
	s->consumed = mlen;
	return 1;
}
