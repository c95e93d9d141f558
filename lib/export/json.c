// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* json.c: JSON lines output shared by every sysflow part. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "json.h"

/* Where the next line starts in a regular file; -1 for pipes, ttys. */
static off_t line_start(FILE *out)
{
	struct stat st;

	if (fstat(fileno(out), &st) || !S_ISREG(st.st_mode))
		return -1;
	return st.st_size;
}

/* A line that did not fit (full disk) is cut off where it began, so the
 * file keeps whole lines only and the next line starts on its own.
 */
static void drop_partial_line(FILE *out, off_t start)
{
	int e = errno;

	if (start >= 0 && !ftruncate(fileno(out), start))
		fseeko(out, start, SEEK_SET);
	clearerr(out);
	errno = e;
}

int sf_json_write_line(FILE *out, json_t *obj)
{
	off_t start;
	int err = 0;

	if (!obj)
		return -ENOMEM;
	start = line_start(out);
	errno = 0;
	if (json_dumpf(obj, out, JSON_COMPACT | JSON_PRESERVE_ORDER) ||
	    fputc('\n', out) == EOF || fflush(out) == EOF) {
		err = -(errno ?: EIO);
		drop_partial_line(out, start);
	}
	json_decref(obj);
	return err;
}

json_t *sf_json_load_file(const char *path, char *why, size_t len)
{
	json_error_t jerr;
	struct stat st;
	json_t *doc;

	if (!stat(path, &st) && S_ISDIR(st.st_mode)) { /* jansson: "EOF" */
		snprintf(why, len, "cannot read %s: %s", path,
			 strerror(EISDIR));
		return NULL;
	}
	errno = 0;
	doc = json_load_file(path, 0, &jerr);
	if (doc)
		return doc;
	if (jerr.line < 1) /* not opened, or failed read: jansson keeps errno */
		snprintf(why, len, "cannot read %s: %s", path,
			 strerror(errno ?: EIO));
	else
		snprintf(why, len, "%s:%d:%d: %s", path, jerr.line, jerr.column,
			 jerr.text);
	return NULL;
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
