// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_proto.c: libFuzzer target for the SysFlow stream decoder and codec.
 * The input is cut into reads of varying size (the first byte seeds the
 * split), fed to the stream decoder, and every whole message is decoded.
 * A message that decodes must re-encode to the same bytes, except HELLO
 * (extra bytes are ignored) and ERROR (data is cut to 64 bytes).
 * Run it with `make fuzz FUZZ=proto` (docs/testing.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sysflow/proto.h>
#include "fuzz.h"

static void check_roundtrip(const uint8_t *msg, size_t len)
{
	struct sfp_msg m, m2;
	struct sfp_buf b = {};

	if (sfp_decode(msg, len, &m))
		return;
	if (sfp_encode(&b, &m) == 0) {
		if (m.h.type != SFP_HELLO && m.h.type != SFP_ERROR &&
		    (b.len != len || memcmp(b.data, msg, len)))
			fuzz_fail("type %u re-encodes differently", m.h.type);
		if (sfp_decode(b.data, b.len, &m2))
			fuzz_fail("type %u re-encoded does not decode",
				  m.h.type);
		sfp_msg_free(&m2);
	}
	sfp_msg_free(&m);
	sfp_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sfp_stream s;
	const uint8_t *msg;
	size_t len, off = 1, step;
	int rc;

	if (size < 1)
		return 0;
	step = (data[0] & 31) + 1;
	sfp_stream_init(&s, 4096);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;

		if (sfp_stream_feed(&s, data + off, n))
			break;
		off += n;
		while ((rc = sfp_stream_next(&s, &msg, &len)) == 1)
			check_roundtrip(msg, len);
		if (rc < 0)
			break;
	}
	sfp_stream_free(&s);
	return 0;
}
