// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_echo.c: libFuzzer target for the responder of `sysflow echo`
 * (lib/xsk/echo.c sf_echo_frame, which answers ARP, NDP, ICMP echo and UDP
 * in place, and sf_echo_describe, its -v line). The first byte is the
 * spare room after the frame (an answer may grow into it); the rest is the
 * frame, in a buffer of exactly frame plus room bytes so that any read or
 * write past the room is caught.
 */
#include "fuzz.h"
#include "xsk/echo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sf_echo_cfg cfg;
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x05 };
	enum sf_echo_kind kind;
	uint32_t len, room;
	uint8_t *frame;
	char line[256];

	if (size < 1 || size > 65536)
		return 0;
	if (!cfg.n_ip4) {
		memcpy(cfg.mac, mac, 6);
		if (sf_echo_cfg_set_addrs(&cfg, "10.0.0.5,fd00::5,fe80::5"))
			fuzz_fail("the harness's addresses do not parse");
	}
	len = size - 1;
	room = len + data[0];
	frame = malloc(room ?: 1);
	if (!frame)
		fuzz_fail("out of memory");
	memcpy(frame, data + 1, len);
	kind = sf_echo_frame(&cfg, frame, &len, room);
	if (len > room)
		fuzz_fail("%s answer of %u bytes, room for %u",
			  sf_echo_kind_name(kind), len, room);
	sf_echo_describe(frame, len, kind, line, sizeof(line));
	free(frame);
	return 0;
}
