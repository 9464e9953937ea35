/* serves.h - is a handle served here: its prefix (or a dotted ancestor) homed, over a reader or a write txn. */
#ifndef IDN_SERVES_H
#define IDN_SERVES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"

/*
 * Responsibility (CNRI errorIfNotHaveHandle, widened to the prefix tree a
 * secondary node owns): `P/x` is ours when 0.NA/P or a dotted ancestor
 * prefix of P ("88.100" for "88.100.12") is homed; a prefix handle 0.NA/P
 * (any case) is ours when 0.NA/0.NA is homed (a root), or 0.NA/P or an
 * ancestor is homed. A handle without '/' is never served.
 *
 * With `derived`, a prefix handle is also ours through CNRI's
 * derived-prefix homing entries 0.NA/0.NA/P (or an ancestor); the
 * resolver honours them, the registry does not. Because such a key is
 * five bytes longer, with `derived` a prefix P longer than
 * IDN_STORE_MAX_KEY - 10 is not served in either form (the resolver's
 * long-standing cap), without it the cap is IDN_STORE_MAX_KEY - 5.
 */
bool idn_reader_serves(idn_reader_t *r, const uint8_t *h, size_t len, bool derived);
bool idn_txn_serves(idn_txn_t *t, const uint8_t *h, size_t len, bool derived);

#endif
