/* volreport.h - the signed daily volume report a node sends to the top (value type IDNODE_VOLUME), built and checked. */
#ifndef IDN_VOLREPORT_H
#define IDN_VOLREPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/pkey.h"

/*
 * The value's data is a JSON object
 *   {"report":"<report JSON text>","alg":"SHA256","signature":"<base64>"}
 * where the report text is
 *   {"node":"88.100","date":"2026-11-30","resolutions":N,"registrations":N,
 *    "identifiers":N,"enterprises":N,"version":1}
 * and the signature is the node's server key (the key of its HS_SITE)
 * over exactly the bytes of that text (RSA PKCS#1 v1.5 / DSA / SM2 with
 * SHA-256, idn_pkey_sign). Carrying the signed text as a string keeps the
 * check independent of how anyone re-serialises JSON.
 */

#define IDN_VOLUME_TYPE "IDNODE_VOLUME"
#define IDN_VOLUME_INDEX 500
#define IDN_VOLUME_VERSION 1

typedef struct {
	char node[64];            /* the node's prefix, "88.100" */
	char date[11];            /* YYYY-MM-DD, the node's local day */
	uint64_t resolutions;     /* that day, every transport and result */
	uint64_t registrations;   /* new identifiers that day */
	uint64_t identifiers;     /* stored at the end of the day */
	uint64_t enterprises;     /* prefixes that registered in the year so far */
	int version;
} idn_volreport_t;

/* The value data, malloc'd and NUL-terminated in *out (*len its length).
 * key NULL: unsigned ("signature":""). IDN_ENOMEM, or idn_pkey_sign's error. */
int idn_volreport_build(const idn_volreport_t *v, const idn_pkey_t *key, char **out, size_t *len);

/* Parse value data into *v; *signed_ok tells whether the signature verifies
 * with one of the HS_PUBKEY blobs of the servers of `site` (HS_SITE data;
 * NULL = not checked, false). IDN_EMALF when the data is not a report. */
int idn_volreport_parse(const uint8_t *data, size_t len, const uint8_t *site, size_t site_len,
			idn_volreport_t *v, bool *signed_ok);

#endif
