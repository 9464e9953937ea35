/* json.h - the JSON form of handle values used by CNRI's REST API (jansson), both ways. */
#ifndef IDN_JSON_H
#define IDN_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/record.h"

/*
 * Rules of use:
 * - Functions returning json_t* return a new reference (caller json_decref's)
 *   or NULL on allocation failure; they never fail on odd data: structured
 *   data that does not decode is shown as string or base64, as CNRI does.
 * - Parsers write the wire form at a cursor and describe the first problem
 *   in `err` ("value 2: index must be a positive integer"); they return
 *   IDN_EINVAL for bad input, IDN_ELIMIT for oversized input, or the
 *   cursor's error (IDN_ESPACE when the output buffer is too small).
 */

/* One value in CNRI's output shape: index, type, data, permissions (when
 * not "1110"), ttl, timestamp (when not 0), references (when any). */
json_t *idn_value_to_json(const idn_value_t *v);

/* The JSON form of a site record (docs 8.3). */
json_t *idn_site_to_json(const idn_site_t *s);

/* Encode one JSON value object at the cursor. Defaults: ttl 86400,
 * permissions "1110", timestamp `now`. `data` may be a string or
 * {"format": string|base64|hex|admin|vlist|site|key, "value": ...}. */
int idn_value_from_json(const json_t *j, uint32_t now, idn_wire_t *out, char *err, size_t errlen);

/* One JSON-lines record {"handle": "...", "values": [...]}: the handle
 * (borrowed from the parsed document, so valid while *doc lives; the caller
 * json_decref's *doc) and the values' wire form at the cursor. */
typedef struct {
	json_t *doc;
	const char *handle;
	size_t handle_len;
	uint32_t n_values;
} idn_json_record_t;

int idn_record_from_json_line(const char *line, size_t len, uint32_t now, idn_wire_t *out,
			      idn_json_record_t *rec, char *err, size_t errlen);

/* Standard base64 with padding of p[0..n), malloc'd and NUL-terminated;
 * NULL when out of memory. */
char *idn_base64_encode(const uint8_t *p, size_t n);
/* Standard or url-safe base64 (padding optional, no whitespace) into a
 * malloc'd *out; the length, or -1 when malformed or out of memory. */
long idn_base64_decode(const char *s, size_t n, uint8_t **out);

/* ISO-8601 UTC ("2024-01-01T00:00:00Z") for a Unix time. buf >= 21 bytes. */
void idn_iso8601(uint32_t t, char *buf, size_t len);

#endif
