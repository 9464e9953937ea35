/* msg.h - Handle protocol message codec: envelope, header, credential, operation bodies. */
#ifndef IDN_MSG_H
#define IDN_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

/*
 * Rules of use:
 * - Pure functions over caller-owned buffers: no I/O, no allocation, no
 *   globals, no logging.
 * - Decoded structures borrow from the input buffer (idn_bytes_t); the buffer
 *   must stay alive and unchanged while they are used.
 * - Every length read from the wire is checked against the limits below
 *   before it is used.
 * - Layouts follow CNRI HANDLE.NET 9 (what deployed clients speak), plus the
 *   IDIS SDK dialect (optional credential field, trailing auth token in
 *   resolution requests, client-chosen session ids).
 */

#define IDN_ENVELOPE_LEN 20
#define IDN_HEADER_LEN 24
#define IDN_MAX_MESSAGE_LEN 262144   /* CNRI MAX_MESSAGE_LENGTH */
#define IDN_MAX_BSTR 1048576         /* CNRI MAX_ARRAY_SIZE */
#define IDN_MAX_HANDLE_LEN 2048      /* bytes of a handle in a request */
#define IDN_MAX_FILTER 64            /* entries in a resolution index/type list */
#define IDN_UDP_PACKET_MAX 512
#define IDN_UDP_CHUNK 492            /* message bytes per UDP datagram */

/* Protocol version we speak (2.11), and the oldest we answer. */
#define IDN_PROTO_MAJOR 2
#define IDN_PROTO_MINOR 11

/* Envelope flag bits (byte 2, high bits). */
#define IDN_ENV_CP 0x80
#define IDN_ENV_EC 0x40
#define IDN_ENV_TC 0x20

/* Operation codes. */
enum {
	IDN_OC_RESERVED = 0,
	IDN_OC_RESOLUTION = 1,
	IDN_OC_GET_SITE_INFO = 2,
	IDN_OC_CREATE_HANDLE = 100,
	IDN_OC_DELETE_HANDLE = 101,
	IDN_OC_ADD_VALUE = 102,
	IDN_OC_REMOVE_VALUE = 103,
	IDN_OC_MODIFY_VALUE = 104,
	IDN_OC_LIST_HANDLES = 105,
	IDN_OC_LIST_NAS = 106,
	IDN_OC_RESPONSE_TO_CHALLENGE = 200,
	IDN_OC_VERIFY_RESPONSE = 201,
	IDN_OC_HOME_NA = 300,
	IDN_OC_UNHOME_NA = 301,
	IDN_OC_LIST_HOMED_NAS = 302,
	IDN_OC_SESSION_SETUP = 400,
	IDN_OC_SESSION_TERMINATE = 401,
	IDN_OC_SESSION_EXCHANGEKEY = 402,
	IDN_OC_GET_NEXT_TXN_ID = 1000,
	IDN_OC_RETRIEVE_TXN_LOG = 1001,
	IDN_OC_DUMP_HANDLES = 1002,
	IDN_OC_BACKUP_SERVER = 1003,
	IDN_OC_LOGIN_ID_SYSTEM = 2001, /* IDIS dialect */
};

/* Response codes. */
enum {
	IDN_RC_RESERVED = 0,
	IDN_RC_SUCCESS = 1,
	IDN_RC_ERROR = 2,
	IDN_RC_SERVER_TOO_BUSY = 3,
	IDN_RC_PROTOCOL_ERROR = 4,
	IDN_RC_OPERATION_NOT_SUPPORTED = 5,
	IDN_RC_RECURSION_COUNT_TOO_HIGH = 6,
	IDN_RC_SERVER_BACKUP = 7,
	IDN_RC_HANDLE_NOT_FOUND = 100,
	IDN_RC_HANDLE_ALREADY_EXISTS = 101,
	IDN_RC_INVALID_HANDLE = 102,
	IDN_RC_VALUES_NOT_FOUND = 200,
	IDN_RC_VALUE_ALREADY_EXISTS = 201,
	IDN_RC_INVALID_VALUE = 202,
	IDN_RC_OUT_OF_DATE_SITE_INFO = 300,
	IDN_RC_SERVER_NOT_RESP = 301,
	IDN_RC_SERVICE_REFERRAL = 302,
	IDN_RC_PREFIX_REFERRAL = 303,
	IDN_RC_INVALID_ADMIN = 400,
	IDN_RC_INSUFFICIENT_PERMISSIONS = 401,
	IDN_RC_AUTHENTICATION_NEEDED = 402,
	IDN_RC_AUTHENTICATION_FAILED = 403,
	IDN_RC_INVALID_CREDENTIAL = 404,
	IDN_RC_AUTHEN_TIMEOUT = 405,
	IDN_RC_AUTHEN_ERROR = 406,
	IDN_RC_SESSION_TIMEOUT = 500,
	IDN_RC_SESSION_FAILED = 501,
	IDN_RC_INVALID_SESSION_KEY = 502,
	IDN_RC_NEED_RSAKEY_FOR_SESSIONEXCHANGE = 503,
	IDN_RC_INVALID_SESSIONSETUP_REQUEST = 504,
	IDN_RC_SESSION_MESSAGE_REJECTED = 505,
	IDN_RC_CLIENT_CHANNEL_ERROR = 601, /* IDIS */
	IDN_RC_CLIENT_TIME_OUT = 602,
	IDN_RC_REQUEST_LIMIT_DAILY = 603,
	IDN_RC_REGISTER_COUNT_LIMIT = 604,
	IDN_RC_PREFIX_LIMIT = 605,
};

/* OpFlag bits. */
#define IDN_OF_AT   0x80000000u /* authoritative */
#define IDN_OF_CT   0x40000000u /* certified: sign the response */
#define IDN_OF_ENC  0x20000000u
#define IDN_OF_REC  0x10000000u /* recursion allowed */
#define IDN_OF_CA   0x08000000u /* cache certify */
#define IDN_OF_CN   0x04000000u /* continuous: more messages follow */
#define IDN_OF_KA   0x02000000u /* keep alive */
#define IDN_OF_PO   0x01000000u /* public only */
#define IDN_OF_RD   0x00800000u /* request digest */
#define IDN_OF_OVRW 0x00400000u /* overwrite */
#define IDN_OF_MINT 0x00200000u /* mint a new suffix */
#define IDN_OF_DNRF 0x00100000u /* do not refer */
#define IDN_OF_RECU_AUTH 0x00000004u /* IDIS: forward caller identity */

/* Flags a response copies from its request (CNRI). */
#define IDN_OF_ECHO_MASK (IDN_OF_AT | IDN_OF_CT | IDN_OF_CA | IDN_OF_ENC | IDN_OF_PO | \
			  IDN_OF_DNRF | IDN_OF_RD)

/* Digest algorithm codes used in request digests. */
enum { IDN_DIGEST_OLD_MD5 = 0, IDN_DIGEST_MD5 = 1, IDN_DIGEST_SHA1 = 2, IDN_DIGEST_SHA256 = 3 };

typedef struct {
	uint8_t major, minor;
	uint8_t flags;            /* IDN_ENV_CP | IDN_ENV_EC | IDN_ENV_TC */
	uint8_t sugg_major, sugg_minor;
	uint32_t session_id;
	uint32_t request_id;
	uint32_t message_id;
	uint32_t message_len;
} idn_envelope_t;

typedef struct {
	uint32_t opcode;
	uint32_t rcode;
	uint32_t opflag;
	uint16_t site_serial;
	uint8_t recursion;
	uint32_t expiration;
	uint32_t body_len;
} idn_header_t;

/* A decoded message. All pointers borrow from the decoded buffer. */
typedef struct {
	idn_envelope_t env;
	idn_header_t hdr;
	idn_bytes_t hb;        /* header + body exactly as received (for digests) */
	idn_bytes_t body;      /* body, including any leading request digest */
	bool has_cred;         /* a CredentialLength field was present */
	idn_bytes_t cred;      /* credential bytes (len 0 = unsigned) */
} idn_msg_t;

/* Decode a 20-byte envelope. IDN_EFEWDATA if len < 20; IDN_ELIMIT if
 * MessageLength is over IDN_MAX_MESSAGE_LEN. */
int idn_envelope_decode(const uint8_t *buf, size_t len, idn_envelope_t *env);

void idn_envelope_encode(idn_wire_t *w, const idn_envelope_t *env);

/*
 * Decode the message part (header, body, optional credential) of `buf`,
 * which holds exactly env->message_len bytes (everything after the
 * envelope). The credential section is read only when at least 4 bytes
 * follow the body (the IDIS SDK omits it). Returns IDN_EFEWDATA, IDN_ELIMIT
 * or IDN_EMALF on bad input.
 */
int idn_msg_decode_message(const idn_envelope_t *env, const uint8_t *buf, size_t len,
			   idn_msg_t *out);

/* Decode a whole single-buffer message: envelope followed by the message.
 * Bytes after envelope + MessageLength are IDN_EMALF. */
int idn_msg_decode(const uint8_t *buf, size_t len, idn_msg_t *out);

/* The version a server answers in: min(peer's suggested version, ours),
 * compared with idn_version_ge(). A peer that suggests nothing (low bits 0)
 * is taken at its own version. A 5.x peer is answered in 5.x, as CNRI does
 * (5.x is never >= 2.11, so the cap does not apply to it). */
void idn_msg_negotiate(const idn_envelope_t *req, uint8_t *major, uint8_t *minor);

/* True when version a.b >= c.d, by CNRI's rule for the ancient clients that
 * sent major 5 by mistake: a 5.x version is >= only 5.x versions with a
 * lower or equal minor, and every other version is >= any 5.x. So a 5.x
 * peer never gets a feature gated on 2.1 or later (it is treated as 2.0). */
bool idn_version_ge(uint8_t a, uint8_t b, uint8_t c, uint8_t d);

/* ------------------------------------------------------------------ */
/* Building messages.                                                  */

/*
 * Start writing a message: envelope + header with zero lengths. Returns the
 * offset of the envelope so idn_msg_end() can patch the lengths. The caller
 * then writes the body.
 */
size_t idn_msg_begin(idn_wire_t *w, const idn_envelope_t *env, const idn_header_t *hdr);

/* Finish the message started at `start`: append an empty credential
 * (CredentialLength 0) when `with_cred`, and patch BodyLength and
 * MessageLength. Returns w->err. */
int idn_msg_end(idn_wire_t *w, size_t start, bool with_cred);

/* The body starts at this offset from the message start. */
#define IDN_MSG_BODY_OFF (IDN_ENVELOPE_LEN + IDN_HEADER_LEN)

/* ------------------------------------------------------------------ */
/* Operation bodies.                                                   */

/* OC 1 request: Handle, IndexList, TypeList [, IDIS auth token]. */
typedef struct {
	idn_bytes_t handle;
	uint32_t n_index;
	uint32_t index[IDN_MAX_FILTER];
	uint32_t n_type;
	idn_bytes_t type[IDN_MAX_FILTER];
	bool has_token;
	idn_bytes_t token;
} idn_resolve_req_t;

/* IDN_ELIMIT when a list has more than IDN_MAX_FILTER entries or the
 * handle is over IDN_MAX_HANDLE_LEN. */
int idn_resolve_req_decode(const uint8_t *body, size_t len, idn_resolve_req_t *out);
void idn_resolve_req_encode(idn_wire_t *w, const idn_resolve_req_t *r);

/* A cheap look at a framed message (envelope included, `len` bytes) for
 * the handle of a plain resolution request, without decoding it: true and
 * *handle pointing into msg when it looks like one. Only a hint (prefetch
 * of a request still queued); the real decode decides. */
bool idn_msg_peek_resolve_handle(const uint8_t *msg, size_t len, idn_bytes_t *handle);

/* Bodies that are a single Handle (OC 2, 101, 105, 300-302, 401): */
int idn_handle_body_decode(const uint8_t *body, size_t len, idn_bytes_t *handle);

/*
 * Error response body: ByteString message (a request digest, when the
 * response carries one, is written by the caller before it). The message is
 * truncated to what fits; if not even its length fits, w->err is IDN_ESPACE.
 */
void idn_error_body_encode(idn_wire_t *w, const char *message);

/* Decode an error body (after any digest): the message, possibly empty.
 * Tolerates an empty body (some servers send none) and ignores bytes after
 * the message, as CNRI's reader does. IDN_EFEWDATA / IDN_ELIMIT on a bad
 * message length. */
int idn_error_body_decode(const uint8_t *body, size_t len, idn_bytes_t *message);

/*
 * Request digest at the start of a response body (RD flag set): u8 alg +
 * digest; for alg 0 (old format) int4 length + 16 bytes. Decoding skips it
 * and returns the number of bytes it took in *skip.
 */
int idn_digest_decode(const uint8_t *body, size_t len, uint8_t *alg, idn_bytes_t *digest,
		      size_t *skip);

/* Length of the digest of algorithm `alg` (1, 2, 3), 0 if unknown. */
size_t idn_digest_len(uint8_t alg);

#endif
