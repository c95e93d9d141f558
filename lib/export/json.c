// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* json.c: JSON lines output shared by every sysflow part. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
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

/* Length of the valid UTF-8 sequence at p (as jansson checks it: no
 * overlong forms, surrogates or code points above U+10FFFF), 0 if none.
 */
static int utf8_len(const unsigned char *p, size_t avail)
{
	uint32_t cp;
	int n;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if ((p[0] & 0xf0) == 0xe0)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if ((size_t)n > avail)
		return 0;
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

json_t *sf_json_text(const char *s)
{
	json_t *j = s ? json_string(s) : NULL;
	size_t n, i = 0, o = 0;
	char *buf;
	int len;

	if (j || !s)
		return j;
	n = strlen(s);
	buf = malloc(4 * n + 1);
	if (!buf)
		return NULL;
	while (i < n) {
		len = utf8_len((const unsigned char *)s + i, n - i);
		if (len) {
			memcpy(buf + o, s + i, len);
			o += len;
			i += len;
		} else {
			o += sprintf(buf + o, "\\x%02x", (unsigned char)s[i++]);
		}
	}
	buf[o] = 0;
	j = json_string(buf);
	free(buf);
	return j;
}

void sf_json_set_str_nonempty(json_t *obj, const char *key, const char *val)
{
	if (val && *val)
		json_object_set_new(obj, key, sf_json_text(val));
}

const char *sf_ip_str(int version, const void *addr, char *buf, size_t len)
{
	if (!inet_ntop(version == 6 ? AF_INET6 : AF_INET, addr, buf, len))
		return "?";
	return buf;
}
