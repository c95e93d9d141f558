// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* jpos.c: line and column of each member and element of a JSON text that
 * jansson has already parsed, so that validation errors in a well-formed
 * file can point at the field. It only walks the text; values come from
 * jansson, never from here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/grow.h"
#include "route_int.h"

#define JPOS_PATH_MAX 256

struct scan {
	const char *s, *end;
	int line, col;
	struct jpos *jp;
};

static void advance(struct scan *sc)
{
	if (*sc->s == '\n') {
		sc->line++;
		sc->col = 1;
	} else if ((*sc->s & 0xC0) != 0x80) { /* not a UTF-8 continuation */
		sc->col++;
	}
	sc->s++;
}

/* Ends a number or literal. A NUL byte does not: strchr() would find the
 * terminator and the scan would stop on it for good.
 */
static bool is_delim(char c)
{
	return c && strchr(",]} \t\r\n", c);
}

static void skip_ws(struct scan *sc)
{
	while (sc->s < sc->end && strchr(" \t\r\n", *sc->s) && *sc->s)
		advance(sc);
}

static int record(struct scan *sc, const char *path, int line, int col)
{
	struct jpos *jp = sc->jp;

	if (grow_array(jp->v, jp->cap, jp->n, 1, 64))
		return -ENOMEM;
	jp->v[jp->n].path = strdup(path);
	if (!jp->v[jp->n].path)
		return -ENOMEM;
	jp->v[jp->n].line = line;
	jp->v[jp->n].column = col;
	jp->n++;
	return 0;
}

/* A string token; copies its raw text (escapes kept) into out. */
static void scan_string(struct scan *sc, char *out, size_t len)
{
	size_t n = 0;

	advance(sc); /* opening quote */
	while (sc->s < sc->end && *sc->s != '"') {
		if (*sc->s == '\\' && sc->s + 1 < sc->end) {
			if (out && n + 1 < len)
				out[n++] = *sc->s;
			advance(sc);
		}
		if (out && n + 1 < len)
			out[n++] = *sc->s;
		advance(sc);
	}
	if (sc->s < sc->end)
		advance(sc); /* closing quote */
	if (out)
		out[n] = 0;
}

static int scan_value(struct scan *sc, const char *path, int depth);

static int scan_object(struct scan *sc, const char *path, int depth)
{
	char key[128], child[JPOS_PATH_MAX];
	int line, col, err;

	advance(sc); /* { */
	for (;;) {
		skip_ws(sc);
		if (sc->s >= sc->end || *sc->s == '}')
			break;
		if (*sc->s == ',') {
			advance(sc);
			continue;
		}
		line = sc->line;
		col = sc->col;
		scan_string(sc, key, sizeof(key));
		snprintf(child, sizeof(child), "%s%s%s", path, *path ? "." : "",
			 key);
		err = record(sc, child, line, col);
		if (err)
			return err;
		skip_ws(sc);
		if (sc->s < sc->end && *sc->s == ':')
			advance(sc);
		err = scan_value(sc, child, depth + 1);
		if (err)
			return err;
	}
	if (sc->s < sc->end)
		advance(sc);
	return 0;
}

static int scan_array(struct scan *sc, const char *path, int depth)
{
	char child[JPOS_PATH_MAX];
	const char *start;
	int i = 0, err;

	advance(sc); /* [ */
	for (;;) {
		skip_ws(sc);
		if (sc->s >= sc->end || *sc->s == ']')
			break;
		if (*sc->s == ',') {
			advance(sc);
			continue;
		}
		snprintf(child, sizeof(child), "%s[%d]", path, i++);
		start = sc->s;
		err = record(sc, child, sc->line, sc->col) ?:
			      scan_value(sc, child, depth + 1);
		if (err)
			return err;
		if (sc->s == start) /* a byte no rule takes: never stall */
			advance(sc);
	}
	if (sc->s < sc->end)
		advance(sc);
	return 0;
}

static int scan_value(struct scan *sc, const char *path, int depth)
{
	if (depth > JPOS_MAX_DEPTH)
		return -E2BIG;
	skip_ws(sc);
	if (sc->s >= sc->end)
		return 0;
	switch (*sc->s) {
	case '{':
		return scan_object(sc, path, depth);
	case '[':
		return scan_array(sc, path, depth);
	case '"':
		scan_string(sc, NULL, 0);
		return 0;
	}
	/* number, true, false, null */
	while (sc->s < sc->end && !is_delim(*sc->s))
		advance(sc);
	return 0;
}

int jpos_build(struct jpos *jp, const char *text, size_t len, int *line,
	       int *col)
{
	struct scan sc = {
		.s = text, .end = text + len, .line = 1, .col = 1, .jp = jp
	};
	int err;

	memset(jp, 0, sizeof(*jp));
	err = record(&sc, "", 1, 1);
	if (!err) {
		skip_ws(&sc);
		jp->v[0].line = sc.line;
		jp->v[0].column = sc.col;
		err = scan_value(&sc, "", 0);
	}
	if (err) {
		*line = sc.line;
		*col = sc.col;
		jpos_free(jp);
	}
	return err;
}

int jpos_find(const struct jpos *jp, const char *path, int *line, int *col)
{
	for (size_t i = 0; i < jp->n; i++) {
		if (!strcmp(jp->v[i].path, path)) {
			*line = jp->v[i].line;
			*col = jp->v[i].column;
			return 0;
		}
	}
	return -ENOENT;
}

void jpos_free(struct jpos *jp)
{
	for (size_t i = 0; i < jp->n; i++)
		free(jp->v[i].path);
	free(jp->v);
	memset(jp, 0, sizeof(*jp));
}
