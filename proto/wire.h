/* wire.h - bounds-checked big-endian cursor over a byte buffer; its error latches. */
#ifndef IDN_WIRE_H
#define IDN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proto/errcode.h"

/*
 * Rules of use:
 * - A cursor never owns its buffer; the buffer must outlive it.
 * - The first failure is stored in `err` (IDN_EFEWDATA when a read runs past
 *   the end, IDN_ESPACE when a write does, IDN_ELIMIT when a length prefix is
 *   over the caller's limit, IDN_EACCES for a write to a read-only cursor).
 *   Reads then return zeros and writes do nothing, so a decoder can read a
 *   whole structure and check `err` once at the end.
 * - Byte strings returned by reads (idn_bytes_t) point into the buffer.
 */

/* A borrowed byte range. Never owns `p`. */
typedef struct {
	const uint8_t *p;
	uint32_t len;
} idn_bytes_t;

typedef struct {
	uint8_t *base;
	uint8_t *pos;
	uint8_t *end;
	int err;
	bool ro;
} idn_wire_t;

static inline void idn_wire_init(idn_wire_t *w, void *buf, size_t len)
{
	/* (NULL, 0) is an empty buffer; give it an address so that no pointer
	 * arithmetic is ever done on NULL (undefined even for + 0). */
	static const uint8_t none[1];
	if (!buf) {
		buf = (void *)none;
		len = 0;
	}
	w->base = w->pos = (uint8_t *)buf;
	w->end = w->base + len;
	w->err = IDN_OK;
	w->ro = false;
}

static inline void idn_wire_init_ro(idn_wire_t *w, const void *buf, size_t len)
{
	idn_wire_init(w, (void *)buf, len);
	w->ro = true;
}

static inline size_t idn_wire_avail(const idn_wire_t *w)
{
	return w->err ? 0 : (size_t)(w->end - w->pos);
}

static inline size_t idn_wire_offset(const idn_wire_t *w)
{
	return (size_t)(w->pos - w->base);
}

static inline void idn_wire_fail(idn_wire_t *w, int err)
{
	if (w->err == IDN_OK)
		w->err = err;
}

/* True when n more bytes can be read (or written); latches the error if not. */
static inline bool idn_wire_need(idn_wire_t *w, size_t n, bool writing)
{
	if (w->err)
		return false;
	if (writing && w->ro) {
		w->err = IDN_EACCES;
		return false;
	}
	if ((size_t)(w->end - w->pos) < n) {
		w->err = writing ? IDN_ESPACE : IDN_EFEWDATA;
		return false;
	}
	return true;
}

static inline void idn_wire_skip(idn_wire_t *w, size_t n)
{
	if (idn_wire_need(w, n, false))
		w->pos += n;
}

static inline uint8_t idn_wire_get_u8(idn_wire_t *w)
{
	if (!idn_wire_need(w, 1, false))
		return 0;
	return *w->pos++;
}

static inline uint16_t idn_wire_get_u16(idn_wire_t *w)
{
	if (!idn_wire_need(w, 2, false))
		return 0;
	uint16_t v = (uint16_t)((w->pos[0] << 8) | w->pos[1]);
	w->pos += 2;
	return v;
}

static inline uint32_t idn_get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void idn_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t idn_wire_get_u32(idn_wire_t *w)
{
	if (!idn_wire_need(w, 4, false))
		return 0;
	uint32_t v = idn_get_be32(w->pos);
	w->pos += 4;
	return v;
}

static inline uint64_t idn_wire_get_u64(idn_wire_t *w)
{
	if (!idn_wire_need(w, 8, false)) /* all or nothing, like the other widths */
		return 0;
	uint64_t hi = idn_wire_get_u32(w);
	uint64_t lo = idn_wire_get_u32(w);
	return (hi << 32) | lo;
}

/* Borrow n raw bytes. */
static inline idn_bytes_t idn_wire_get_raw(idn_wire_t *w, size_t n)
{
	idn_bytes_t b = { NULL, 0 };
	if (n > UINT32_MAX) {
		idn_wire_fail(w, IDN_ELIMIT);
		return b;
	}
	if (!idn_wire_need(w, n, false))
		return b;
	b.p = w->pos;
	b.len = (uint32_t)n;
	w->pos += n;
	return b;
}

/*
 * Fixed-size runs of fields (envelope, header): one bounds check for the
 * run instead of one per field, then idn_get_be32/idn_put_be32 at known
 * offsets. On a shortfall the error latches as for a single read or write,
 * nothing is consumed or written, and NULL is returned.
 */
static inline const uint8_t *idn_wire_get_span(idn_wire_t *w, size_t n)
{
	if (!idn_wire_need(w, n, false))
		return NULL;
	const uint8_t *p = w->pos;
	w->pos += n;
	return p;
}

static inline uint8_t *idn_wire_put_span(idn_wire_t *w, size_t n)
{
	if (!idn_wire_need(w, n, true))
		return NULL;
	uint8_t *p = w->pos;
	w->pos += n;
	return p;
}

/*
 * Read a ByteString: int4 length then the bytes. A length that is negative
 * or over `limit` latches IDN_ELIMIT before anything is touched.
 */
static inline idn_bytes_t idn_wire_get_bstr(idn_wire_t *w, uint32_t limit)
{
	idn_bytes_t b = { NULL, 0 };
	uint32_t n = idn_wire_get_u32(w);
	if (w->err)
		return b;
	if (n > limit || n > 0x7fffffffu) {
		w->err = IDN_ELIMIT;
		return b;
	}
	return idn_wire_get_raw(w, n);
}

static inline void idn_wire_put_u8(idn_wire_t *w, uint8_t v)
{
	if (idn_wire_need(w, 1, true))
		*w->pos++ = v;
}

static inline void idn_wire_put_u16(idn_wire_t *w, uint16_t v)
{
	if (!idn_wire_need(w, 2, true))
		return;
	w->pos[0] = (uint8_t)(v >> 8);
	w->pos[1] = (uint8_t)v;
	w->pos += 2;
}

static inline void idn_wire_put_u32(idn_wire_t *w, uint32_t v)
{
	if (!idn_wire_need(w, 4, true))
		return;
	idn_put_be32(w->pos, v);
	w->pos += 4;
}

static inline void idn_wire_put_u64(idn_wire_t *w, uint64_t v)
{
	if (!idn_wire_need(w, 8, true))
		return;
	idn_wire_put_u32(w, (uint32_t)(v >> 32));
	idn_wire_put_u32(w, (uint32_t)v);
}

static inline void idn_wire_put_raw(idn_wire_t *w, const void *p, size_t n)
{
	if (n == 0 || !idn_wire_need(w, n, true))
		return;
	memcpy(w->pos, p, n);
	w->pos += n;
}

/* Write a ByteString (int4 length + bytes). */
static inline void idn_wire_put_bstr(idn_wire_t *w, const void *p, size_t n)
{
	if (n > 0x7fffffffu) {
		idn_wire_fail(w, IDN_ELIMIT);
		return;
	}
	if (!idn_wire_need(w, 4 + n, true))
		return;
	idn_wire_put_u32(w, (uint32_t)n);
	idn_wire_put_raw(w, p, n);
}

static inline void idn_wire_put_str(idn_wire_t *w, const char *s)
{
	idn_wire_put_bstr(w, s, strlen(s));
}

/* Overwrite 4 bytes at an absolute offset already written (length patching). */
static inline void idn_wire_patch_u32(idn_wire_t *w, size_t off, uint32_t v)
{
	size_t used = (size_t)(w->pos - w->base);
	if (w->err || w->ro || off > used || used - off < 4) /* no off + 4 wrap-around */
		return;
	idn_put_be32(w->base + off, v);
}

static inline bool idn_bytes_eq_str(idn_bytes_t b, const char *s)
{
	size_t n = strlen(s);
	return b.len == n && (n == 0 || memcmp(b.p, s, n) == 0);
}

#endif
