// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* fuzz_ctrl_app.c: libFuzzer target for the controller's application files
 * (lib/controller/app_policy.c rules and "ask" answers, app_acl.c time
 * windows), loaded as `sysflow controller --policy FILE` would. The first
 * byte picks the app; the rest is the file.
 */
#include "fuzz.h"
#include "controller/ctrl_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct sf_app *app;
	char path[64];
	void *st;
	int fd;

	if (size < 1)
		return 0;
	fuzz_quiet();
	app = data[0] & 1 ? &sf_app_acl : &sf_app_policy;
	fd = fuzz_file(data + 1, size - 1, path, sizeof(path));
	st = app->init(NULL, &sf_ctrl_api, path);
	if (st)
		app->fini(st);
	close(fd);
	return 0;
}
