/* record.h - encodings of handle values and the records inside them (HS_ADMIN, HS_VLIST, HS_SITE, HS_PUBKEY). */
#ifndef IDN_RECORD_H
#define IDN_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/msg.h" /* IDN_MAX_BSTR, IDN_MAX_HANDLE_LEN */
#include "proto/wire.h"

/*
 * Rules of use:
 * - Pure functions; decoded structs borrow from the input buffer.
 * - Decoders of whole records (admin, vlist, site) reject trailing bytes
 *   with IDN_EMALF, except where CNRI writes extra bytes (legacy HS_ADMIN
 *   +2 bytes, RSA_PUB_KEY +4 bytes).
 * - Fixed caps below bound every count read from the wire (IDN_ELIMIT).
 */

#define IDN_MAX_TYPE_LEN 256        /* bytes of a value type name */
#define IDN_MAX_VALUE_DATA (IDN_MAX_BSTR)
#define IDN_MAX_REFS 64             /* references in one value */
#define IDN_MAX_VALUES 2048         /* values in one handle (CNRI client limit) */
#define IDN_SITE_MAX_ATTRS 32
#define IDN_SITE_MAX_SERVERS 32
#define IDN_SITE_MAX_IFS 16

/* Value permission bits. */
#define IDN_PERM_ADMIN_READ 0x08
#define IDN_PERM_ADMIN_WRITE 0x04
#define IDN_PERM_PUBLIC_READ 0x02
#define IDN_PERM_PUBLIC_WRITE 0x01
#define IDN_PERM_DEFAULT 0x0e

/* HS_ADMIN permission mask bits. */
enum {
	IDN_ADM_ADD_HANDLE = 0x0001,
	IDN_ADM_DELETE_HANDLE = 0x0002,
	IDN_ADM_ADD_DERIVED_PREFIX = 0x0004,
	IDN_ADM_DELETE_DERIVED_PREFIX = 0x0008,
	IDN_ADM_MODIFY_VALUE = 0x0010,
	IDN_ADM_REMOVE_VALUE = 0x0020,
	IDN_ADM_ADD_VALUE = 0x0040,
	IDN_ADM_MODIFY_ADMIN = 0x0080,
	IDN_ADM_REMOVE_ADMIN = 0x0100,
	IDN_ADM_ADD_ADMIN = 0x0200,
	IDN_ADM_READ_VALUE = 0x0400,
	IDN_ADM_LIST_HANDLES = 0x0800,
	IDN_ADM_ALL = 0x0fff,
};

#define IDN_TTL_RELATIVE 0
#define IDN_TTL_ABSOLUTE 1

/* One handle value. Fixed part (14 bytes) then type, data, references. */
typedef struct {
	uint32_t index;
	uint32_t timestamp;
	uint8_t ttl_type;
	uint32_t ttl;
	uint8_t perms;
	idn_bytes_t type;
	idn_bytes_t data;
	uint32_t n_refs;
	idn_bytes_t refs;      /* raw reference entries (without the count) */
} idn_value_t;

/* Read one value at the cursor (values are not length-prefixed); v borrows
 * from the cursor's buffer. Returns the cursor's error, latched: IDN_EFEWDATA
 * when the value runs past the end, IDN_ELIMIT for a type over
 * IDN_MAX_TYPE_LEN, data over IDN_MAX_VALUE_DATA, more than IDN_MAX_REFS
 * references or a reference handle over IDN_MAX_HANDLE_LEN. */
int idn_value_decode(idn_wire_t *w, idn_value_t *v);
/* Write v at the cursor (errors latch in w->err). v->refs is written raw
 * after v->n_refs, so a decoded value re-encodes byte for byte. */
void idn_value_encode(idn_wire_t *w, const idn_value_t *v);
/* Bytes idn_value_encode() writes for v. */
size_t idn_value_size(const idn_value_t *v);

/* Iterate the references of a decoded value: returns false at the end or
 * on error. `*pos` starts at 0. */
bool idn_value_ref_next(const idn_value_t *v, size_t *pos, idn_bytes_t *handle, uint32_t *index);

/* CNRI filter semantics: type `query` matches `type`, ASCII case-insensitive;
 * a query ending in '.' also matches every subtype ("URL." ~ "URL", "URL.x").
 * A value with an empty type matches no query (CNRI). */
bool idn_type_matches(idn_bytes_t type, idn_bytes_t query);
/* HandleValue.hasType: `type` is `base` or `base.` followed by anything. */
bool idn_type_is(idn_bytes_t type, const char *base);

/* Handles (and type names) compare ASCII case-insensitively, as the store
 * folds them: only a-z fold to A-Z, other bytes must be equal. */
bool idn_handle_eq_ci(const uint8_t *a, size_t al, const uint8_t *b, size_t bl);
/* Does h start with prefix (plen bytes), compared as idn_handle_eq_ci? */
bool idn_handle_has_prefix_ci(const uint8_t *h, size_t len, const uint8_t *prefix, size_t plen);

/* HS_ADMIN data. */
typedef struct {
	uint16_t perms;
	idn_bytes_t admin_id;
	uint32_t admin_index;
} idn_admin_t;

/* IDN_OK, IDN_EFEWDATA / IDN_ELIMIT (admin id over IDN_MAX_HANDLE_LEN), or
 * IDN_EMALF for trailing bytes other than the legacy two zero bytes. */
int idn_admin_decode(const uint8_t *p, size_t len, idn_admin_t *a);
/* Current form (no legacy bytes); errors latch in w->err. */
void idn_admin_encode(idn_wire_t *w, const idn_admin_t *a);

/* HS_VLIST data: int4 count then (ByteString handle, int4 index) entries. */
typedef struct {
	uint32_t count;
	idn_bytes_t raw;       /* the entries, validated */
} idn_vlist_t;

/* Validates every entry. IDN_EFEWDATA when the entries run past the end (or
 * the count cannot fit), IDN_ELIMIT for a count over IDN_MAX_BSTR or a handle over
 * IDN_MAX_HANDLE_LEN, IDN_EMALF for trailing bytes. */
int idn_vlist_decode(const uint8_t *p, size_t len, idn_vlist_t *v);
/* Next entry of a decoded list; `*pos` starts at 0; false at the end. */
bool idn_vlist_next(const idn_vlist_t *v, size_t *pos, idn_bytes_t *handle, uint32_t *index);
/* Encode from parallel arrays. */
void idn_vlist_encode(idn_wire_t *w, uint32_t n, const idn_bytes_t *handles, const uint32_t *indexes);

/* HS_SITE data. */
enum { IDN_IF_OUT = 0, IDN_IF_ADMIN = 1, IDN_IF_QUERY = 2, IDN_IF_BOTH = 3 };
enum { IDN_PROTO_UDP = 0, IDN_PROTO_TCP = 1, IDN_PROTO_HTTP = 2, IDN_PROTO_HTTPS = 3 };
#define IDN_SITE_PRIMARY 0x80
#define IDN_SITE_MULTI_PRIMARY 0x40

typedef struct {
	uint8_t type;          /* IDN_IF_* */
	uint8_t protocol;      /* IDN_PROTO_* */
	uint32_t port;
} idn_site_if_t;

typedef struct {
	uint32_t server_id;
	uint8_t address[16];   /* IPv4 = 12 zero bytes + 4 address bytes */
	idn_bytes_t pubkey;    /* HS_PUBKEY blob */
	uint32_t n_ifs;
	idn_site_if_t ifs[IDN_SITE_MAX_IFS];
} idn_site_server_t;

typedef struct {
	idn_bytes_t name, value;
} idn_site_attr_t;

typedef struct {
	uint16_t data_version;
	uint8_t proto_major, proto_minor;
	uint16_t serial;
	uint8_t primary_mask;
	uint8_t hash_option;
	idn_bytes_t hash_filter;
	uint32_t n_attrs;
	idn_site_attr_t attrs[IDN_SITE_MAX_ATTRS];
	uint32_t n_servers;
	idn_site_server_t servers[IDN_SITE_MAX_SERVERS];
} idn_site_t;

/* Decode SiteInfo (s is large: ~6.5 KiB; borrows from p). IDN_ELIMIT for more
 * than IDN_SITE_MAX_ATTRS / _SERVERS / _IFS entries or an over-long string,
 * IDN_EFEWDATA when truncated, IDN_EMALF for trailing bytes. */
int idn_site_decode(const uint8_t *p, size_t len, idn_site_t *s);
/* Byte-exact inverse of idn_site_decode; IDN_ELIMIT latches in w->err when a
 * count is over its cap. */
void idn_site_encode(idn_wire_t *w, const idn_site_t *s);

/* CNRI server selection: index into s->servers for `handle` (section 7.1):
 * MD5 of the upper-cased prefix (option 0; "0.NA" when there is no "/"),
 * suffix (1; the whole handle when there is no "/") or whole handle (2, and
 * any unknown option, which CNRI refuses). 0 when n_servers <= 1, for the
 * 2^-32 case CNRI fails on, and for a handle over IDN_MAX_HANDLE_LEN. */
uint32_t idn_site_server_index(uint8_t hash_option, uint32_t n_servers,
			       const uint8_t *handle, size_t len);

/* HS_PUBKEY blob. Big integers are unsigned magnitudes (leading zeros kept
 * as on the wire; callers strip them). */
enum {
	IDN_KEY_UNKNOWN = 0,
	IDN_KEY_RSA,
	IDN_KEY_DSA,
	IDN_KEY_DH,
	IDN_KEY_SM2,
	IDN_KEY_PEM,
	IDN_KEY_SM9,           /* IDIS; same shape as SM2_PUB_KEY */
};

typedef struct {
	int kind;              /* IDN_KEY_* */
	idn_bytes_t type;      /* the key type string (empty for IDN_KEY_PEM) */
	idn_bytes_t rsa_e, rsa_n;
	idn_bytes_t dsa_q, dsa_p, dsa_g, dsa_y; /* DH_PUB_KEY: y, p, g here too */
	idn_bytes_t pem;       /* SM2_PUB_KEY / SM9_PUB_KEY payload (the IDIS docs say
				* PEM text; an SDK test writes DER: accept both), or
				* the whole value for IDN_KEY_PEM */
} idn_pubkey_t;

/* Decode a CNRI binary key blob (RSA_PUB_KEY, DSA_PUB_KEY, DH_PUB_KEY), an
 * IDIS SM2_PUB_KEY / SM9_PUB_KEY blob, or PEM text ("-----BEGIN ...", as the
 * IDIS SDK stores it). Bytes after the key fields are ignored, as CNRI does
 * (its RSA blobs end in 4 zero bytes). IDN_EMALF for an unknown key type,
 * IDN_EFEWDATA / IDN_ELIMIT for bad lengths; k->kind is IDN_KEY_UNKNOWN on
 * error. */
int idn_pubkey_decode(const uint8_t *p, size_t len, idn_pubkey_t *k);
/* Encode RSA_PUB_KEY as CNRI does (e, n with sign bytes, then 4 zero bytes).
 * e and n are unsigned big-endian magnitudes. */
void idn_pubkey_encode_rsa(idn_wire_t *w, idn_bytes_t e, idn_bytes_t n);

#endif
