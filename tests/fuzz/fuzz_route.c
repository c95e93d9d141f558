// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_route.c: libFuzzer target for the policy router's configuration
 * (lib/route/config*.c, `sysflow route check --no-ifaces FILE`) and, for a
 * file that loads, the rule compiler that `route apply` runs next
 * (lib/route/compile.c). The input is the file. A rejected file must say
 * where: a message, and a line when the JSON itself is broken.
 */
#include <sysflow/route.h>
#include "fuzz.h"
#include "route/route_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sf_route_config *cfg;
	struct sf_route_error err;
	struct rt_tables *t;
	char path[64];
	int fd, rc;

	fuzz_quiet();
	fd = fuzz_file(data, size, path, sizeof(path));
	rc = sf_route_config_load(path, SF_ROUTE_NO_IFACES, &cfg, &err);
	close(fd);
	if (rc) {
		if (!err.msg[0])
			fuzz_fail("refused (%s) without a message",
				  strerror(-rc));
		return 0;
	}
	if (rt_compile(cfg, &t) == 0)
		rt_tables_free(t);
	sf_route_config_free(cfg);
	return 0;
}
