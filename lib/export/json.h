/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* json.h: the one JSON writer of sysflow. Records are built as jansson
 * objects and written as JSON lines: one compact object per line, keys
 * stable, numbers kept as numbers.
 */
#ifndef __SYSFLOW_JSON_H
#define __SYSFLOW_JSON_H

#include <stdio.h>
#include <jansson.h>

/* Write obj as one line and release it. Returns 0 or -errno of the failed
 * write (-ENOSPC, -EIO, ...). In a regular file a line that failed is cut
 * off where it began: the file keeps whole lines only.
 */
int sf_json_write_line(FILE *out, json_t *obj);

/* s as a JSON string. jansson takes only valid UTF-8, and names from
 * packets or file systems need not be: each byte that is not part of a
 * valid UTF-8 sequence becomes the four characters \xHH, so nothing is
 * dropped. NULL for a NULL s or out of memory.
 */
json_t *sf_json_text(const char *s);

/* Add key: value (sf_json_text) only when value is non-empty. */
void sf_json_set_str_nonempty(json_t *obj, const char *key, const char *val);

/* Read a JSON file. On failure returns NULL and puts in why either
 * "cannot read PATH: REASON" (missing, unreadable, a directory) or
 * "PATH:LINE:COLUMN: TEXT" (a syntax error), the path given once.
 */
json_t *sf_json_load_file(const char *path, char *why, size_t len);

/* Text form of an IPv4 (4 bytes) or IPv6 (16 bytes) address. */
const char *sf_ip_str(int version, const void *addr, char *buf, size_t len);

#endif /* __SYSFLOW_JSON_H */
