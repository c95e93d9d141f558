// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* json.c: JSON lines output shared by every sysflow part. */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include "json.h"

int sf_json_write_line(FILE *out, json_t *obj)
{
	int err = 0;

	if (!obj)
		return -ENOMEM;
	if (json_dumpf(obj, out, JSON_COMPACT | JSON_PRESERVE_ORDER) ||
	    fputc('\n', out) == EOF || fflush(out) == EOF)
		err = -(errno ?: EIO);
	json_decref(obj);
	return err;
}

void sf_json_set_str_nonempty(json_t *obj, const char *key, const char *val)
{
	if (val && *val)
		json_object_set_new(obj, key, json_string(val));
}

const char *sf_ip_str(int version, const void *addr, char *buf, size_t len)
{
	if (!inet_ntop(version == 6 ? AF_INET6 : AF_INET, addr, buf, len))
		return "?";
	return buf;
}
