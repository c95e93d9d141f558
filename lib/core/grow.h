/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* grow.h: growing arrays and byte buffers, the one place for their
 * capacity arithmetic. Capacity doubles; a size that does not fit (in
 * size_t, in bytes, or in the caller's capacity type) fails with
 * -EOVERFLOW instead of wrapping. Internal (grow_* stays out of
 * libsysflow.so's exports).
 */
#ifndef __SYSFLOW_GROW_H
#define __SYSFLOW_GROW_H

#include <stddef.h>
#include <stdint.h>

/* Room in *v for more elements of elem bytes after the first len: when
 * len + more exceeds *cap, *cap doubles from min (from 1 when min is 0)
 * until they fit, held at max elements and at SIZE_MAX / elem, and *v is
 * reallocated. 0; -EOVERFLOW when len + more does not fit those limits;
 * -ENOMEM when realloc fails. On failure *v and *cap are unchanged.
 */
int grow_raw(void **v, size_t *cap, size_t len, size_t more, size_t elem,
	     size_t min, size_t max);

/* grow_raw() for a typed array v of cap elements (any unsigned type; its
 * largest value is the limit), len in use: room for more, 0 or a negative
 * errno. v and cap are lvalues, evaluated more than once.
 */
#define grow_array(v, cap, len, more, min)                                   \
	({                                                                   \
		_Static_assert((__typeof__(cap))-1 > 0,                      \
			       "grow_array: the capacity must be unsigned"); \
		void *__grow_v = (v);                                        \
		size_t __grow_cap = (cap);                                   \
		int __grow_err = grow_raw(&__grow_v, &__grow_cap, (len),     \
					  (more), sizeof(*(v)), (min),       \
					  (__typeof__(cap))-1);              \
		(v) = __grow_v;                                              \
		(cap) = __grow_cap;                                          \
		__grow_err;                                                  \
	})

/* Drop the first n of the len bytes at data (all of them when n >= len),
 * moving the rest to the front. Returns the bytes left.
 */
size_t grow_drop_front(uint8_t *data, size_t len, size_t n);

/* ---- byte buffer ---- */

#define GROW_BUF_MIN 4096 /* first allocation, in bytes */

struct grow_buf {
	uint8_t *data;
	size_t len, cap;
};

/* Room for n more bytes after len: 0 or -ENOMEM/-EOVERFLOW. */
int grow_buf_reserve(struct grow_buf *b, size_t n);
/* Append n bytes: 0 or -ENOMEM/-EOVERFLOW (then nothing is appended). */
int grow_buf_put(struct grow_buf *b, const void *data, size_t n);
/* Drop the first n bytes (after a partial write). */
void grow_buf_consume(struct grow_buf *b, size_t n);
void grow_buf_free(struct grow_buf *b);

#endif /* __SYSFLOW_GROW_H */
