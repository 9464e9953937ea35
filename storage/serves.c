/* serves.c - is a handle served here: one walk of the homed-prefix tree for readers and write txns (see serves.h). */
#include <string.h>

#include "proto/record.h"
#include "storage/serves.h"

#define NA_PREFIX "0.NA/"
#define NA_PREFIX_LEN 5

typedef bool (*is_homed_fn)(void *ctx, const uint8_t *na, size_t len);

/* Is prefix p (such as "88.100.12") homed, directly or through a dotted
 * ancestor ("88.100", "88")? check_derived: also 0.NA/0.NA/<p>. */
static bool homed_hier(is_homed_fn is_homed, void *ctx, const uint8_t *p, size_t len,
		       size_t reserve, bool check_derived)
{
	uint8_t buf[IDN_STORE_MAX_KEY];
	if (len == 0 || len + reserve > sizeof(buf))
		return false;
	memcpy(buf, NA_PREFIX, NA_PREFIX_LEN);
	for (;;) {
		memcpy(buf + NA_PREFIX_LEN, p, len);
		if (is_homed(ctx, buf, NA_PREFIX_LEN + len))
			return true;
		if (check_derived) {
			uint8_t d[IDN_STORE_MAX_KEY];
			memcpy(d, NA_PREFIX, NA_PREFIX_LEN);
			memcpy(d + NA_PREFIX_LEN, NA_PREFIX, NA_PREFIX_LEN);
			memcpy(d + 2 * NA_PREFIX_LEN, p, len);
			if (is_homed(ctx, d, 2 * NA_PREFIX_LEN + len))
				return true;
		}
		/* Drop the last dotted component. */
		while (len > 0 && p[len - 1] != '.')
			len--;
		if (len <= 1)
			return false;
		len--;
	}
}

static bool serves(is_homed_fn is_homed, void *ctx, const uint8_t *h, size_t len, bool derived)
{
	/* The derived key 0.NA/0.NA/<p> is what must fit when it may be asked. */
	size_t reserve = (derived ? 2 : 1) * NA_PREFIX_LEN;
	if (idn_handle_has_prefix_ci(h, len, (const uint8_t *)NA_PREFIX, NA_PREFIX_LEN)) {
		static const uint8_t root[] = "0.NA/0.NA";
		if (is_homed(ctx, root, sizeof(root) - 1))
			return true;
		return homed_hier(is_homed, ctx, h + NA_PREFIX_LEN, len - NA_PREFIX_LEN, reserve,
				  derived);
	}
	const uint8_t *slash = memchr(h, '/', len);
	if (!slash)
		return false;
	return homed_hier(is_homed, ctx, h, (size_t)(slash - h), reserve, false);
}

static bool reader_homed(void *ctx, const uint8_t *na, size_t len)
{
	return idn_reader_is_homed(ctx, na, len);
}

static bool txn_homed(void *ctx, const uint8_t *na, size_t len)
{
	return idn_txn_is_homed(ctx, na, len);
}

bool idn_reader_serves(idn_reader_t *r, const uint8_t *h, size_t len, bool derived)
{
	return serves(reader_homed, r, h, len, derived);
}

bool idn_txn_serves(idn_txn_t *t, const uint8_t *h, size_t len, bool derived)
{
	return serves(txn_homed, t, h, len, derived);
}
