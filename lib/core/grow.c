// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* grow.c: growing arrays and byte buffers with checked capacity doubling;
 * every part grows its arrays here (grow.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/grow.h"

/* The capacity for len + more elements: doubled from cap (or min), held
 * at limit; 0 when len + more does not fit under limit.
 */
static size_t grow_capacity(size_t cap, size_t len, size_t more, size_t min,
			    size_t limit)
{
	size_t want;

	if (more > limit || len > limit - more)
		return 0;
	want = len + more;
	if (!cap)
		cap = min ?: 1;
	if (cap > limit)
		cap = limit;
	while (cap < want && cap <= limit / 2)
		cap *= 2;
	return cap < want ? limit : cap;
}

int grow_raw(void **v, size_t *cap, size_t len, size_t more, size_t elem,
	     size_t min, size_t max)
{
	size_t limit = SIZE_MAX / elem, want;
	void *p;

	if (max < limit)
		limit = max;
	if (more <= *cap && len <= *cap - more)
		return 0;
	want = grow_capacity(*cap, len, more, min, limit);
	if (!want)
		return -EOVERFLOW;
	p = realloc(*v, want * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = want;
	return 0;
}

size_t grow_drop_front(uint8_t *data, size_t len, size_t n)
{
	if (n >= len)
		return 0;
	if (n)
		memmove(data, data + n, len - n);
	return len - n;
}

int grow_buf_reserve(struct grow_buf *b, size_t n)
{
	return grow_array(b->data, b->cap, b->len, n, GROW_BUF_MIN);
}

int grow_buf_put(struct grow_buf *b, const void *data, size_t n)
{
	int err = grow_buf_reserve(b, n);

	if (err)
		return err;
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	return 0;
}

void grow_buf_consume(struct grow_buf *b, size_t n)
{
	b->len = grow_drop_front(b->data, b->len, n);
}

void grow_buf_free(struct grow_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
