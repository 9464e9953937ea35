/* query.h - query processing as a consume/produce step: request bytes in, response bytes out, no sockets. */
#ifndef IDN_QUERY_H
#define IDN_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proto/msg.h"
#include "proto/op.h"
#include "proto/pkey.h"
#include "storage/store.h"

/*
 * Rules of use:
 * - One idn_query_t per worker thread; it is reused for every request.
 * - The caller owns the store reader and brackets each batch of requests
 *   with idn_reader_begin()/idn_reader_end(); records read from the store
 *   are copied into the response before produce returns.
 * - idn_query_consume() borrows the request buffer until the last
 *   idn_query_produce() for it has returned.
 * - The server info is shared and immutable; swapping it (config reload)
 *   happens between requests.
 * - Nothing here allocates or logs. Problems worth logging are counted in
 *   idn_query_stats_t and the last one is described in `why`.
 */

/* States returned by consume and produce. */
enum idn_qstate {
	IDN_Q_DONE = 0,     /* nothing (more) to send for this request */
	IDN_Q_PRODUCE = 1,  /* call produce (again): a message is ready / more follow */
	IDN_Q_DROP = 2,     /* send nothing (UDP garbage, stray responses) */
	IDN_Q_CLOSE = 3,    /* produce wrote a last message; close the connection after it */
	IDN_Q_ASYNC = 4,    /* consume: not ours to answer; hand it to q->dispatch as a job */
};

/* Requests that already went through this many recursive servers get RC 6
 * instead of another hop (CNRI allows 10; fewer keeps loops short). */
#define IDN_MAX_RECURSION 4

/* What this server is; built at start and on reload, then read-only. */
typedef struct {
	const uint8_t *site;      /* our HS_SITE record (get-site-info body) */
	size_t site_len;
	uint16_t site_serial;
	bool primary;             /* set AT in responses */
	/* The server's private key (site key): requests with CT get answers
	 * signed with it. NULL = answer them unsigned. Borrowed. */
	const idn_pkey_t *sign_key;
} idn_server_info_t;

/* Results of a resolution as the volume accounting counts them. */
enum idn_res_result {
	IDN_RES_OK = 0,           /* RC 1 */
	IDN_RES_NOT_FOUND,        /* RC 100 */
	IDN_RES_VALUES_NOT_FOUND, /* RC 200 */
	IDN_RES_NOT_HOMED,        /* RC 301 */
	IDN_RES_REFERRAL,         /* RC 302, 303 */
	IDN_RES_ERROR,            /* any other code */
	IDN_RES_COUNT
};
#define IDN_QS_TRANSPORTS 3       /* IDN_TR_UDP, IDN_TR_TCP, IDN_TR_HTTP */

typedef struct {
	uint64_t requests;
	uint64_t resolutions;     /* OC 1 answered (any code) */
	uint64_t resolved_ok;     /* OC 1 answered RC 1 */
	uint64_t not_found;       /* RC 100 */
	uint64_t not_homed;       /* RC 301 */
	uint64_t referrals;       /* RC 303 */
	uint64_t recursed;        /* OC 1 handed to the recursor */
	uint64_t recursed_cached; /* OC 1 for foreign handles answered from the cache */
	uint64_t site_info;
	uint64_t malformed;       /* undecodable requests */
	uint64_t errors;          /* other error responses */
	/* OC 1 answers by transport (enum idn_transport) and result (the
	 * answer's response code, IDN_RES_*): the volume accounting's source. */
	uint64_t res[IDN_QS_TRANSPORTS][IDN_RES_COUNT];
	/* Abuse limits (resolver/ratelimit.h), counted by the listeners. */
	uint64_t rate_limited_udp_dropped; /* UDP requests over the rate, dropped */
	uint64_t rate_limited_answered;    /* requests over the rate answered RC 603 / HTTP 429 */
	uint64_t udp_answers_capped;       /* UDP answers over udp-max-answer, replaced by "use TCP" */
	uint64_t tcp_refused_per_address;  /* connections refused: tcp-max-per-address */
	uint64_t tcp_refused_total;        /* connections refused: max-connections / tcp-max-connections */
	uint64_t tcp_slow_closed;          /* connections closed by tcp-slow-timeout */
	uint64_t oversized_requests;       /* requests over max-request (TCP framing, UDP reassembly) */
} idn_query_stats_t;

typedef struct {
	/* set by the caller */
	idn_reader_t *reader;
	const idn_server_info_t *info;
	int transport;            /* enum idn_transport */
	uint32_t now;             /* Unix seconds, refreshed per batch */
	/* Where operations other than resolution and site info go (TCP only;
	 * NULL = answered here with RC 5). */
	const idn_dispatch_t *dispatch;
	/* Recursion (NULL = off): an OC 1 for a handle not served here with
	 * REC set is answered from `rcache` when it holds the answer, else
	 * produce returns IDN_Q_ASYNC and the request becomes a job for this
	 * table (the recursor). */
	const idn_dispatch_t *recurse;
	struct idn_rcc *rcache;
	/* Where an IDN_Q_ASYNC request goes: dispatch (from consume) or
	 * recurse (from produce). */
	const idn_dispatch_t *async_to;

	/* per request, internal */
	const uint8_t *req;
	size_t req_len;
	idn_msg_t msg;
	int decode_err;
	int state;

	/* The last responsibility decision, valid within one read snapshot:
	 * consecutive requests mostly share a prefix. */
	uint64_t served_snapshot;
	uint8_t served_prefix[64];
	size_t served_len;
	bool served;

	idn_query_stats_t stats;
	const char *why;          /* last malformed-input description (static) */
} idn_query_t;

void idn_query_init(idn_query_t *q, idn_reader_t *reader, const idn_server_info_t *info,
		    int transport);

/*
 * Take one complete request (envelope + message, reassembled if it came in
 * several UDP datagrams). Returns IDN_Q_PRODUCE when a response must be
 * produced, IDN_Q_DROP when nothing must be sent, IDN_Q_ASYNC when the
 * request decoded, is neither compressed nor encrypted, is not OC 0/1/2,
 * came over a stream and q->dispatch is set: the caller builds an
 * idn_job_t (q->msg is the decoded request) and produce writes nothing.
 * q->async_to is the table the job goes to.
 */
int idn_query_consume(idn_query_t *q, const uint8_t *buf, size_t len);

/*
 * Write the next response message (envelope + message) at `out`. Returns
 * IDN_Q_DONE when it was the last one, IDN_Q_PRODUCE when more follow,
 * IDN_Q_CLOSE when the connection must be closed after it. When the
 * response does not fit, out->err is IDN_ESPACE and the caller may retry
 * with a larger buffer (produce is repeatable until it succeeds).
 * With q->recurse set it may also return IDN_Q_ASYNC (nothing written): the
 * request is a job for q->async_to, as from consume.
 */
int idn_query_produce(idn_query_t *q, idn_wire_t *out);

/* The response context (site serial, primary, now, signing key) the query
 * step answers with, for jobs handed to the dispatch table. */
void idn_query_resp_ctx(const idn_query_t *q, idn_resp_ctx_t *ctx);

/* Count a resolution answered later (a job: the recursor's relayed answer)
 * by the response code of its first message, as produce counts its own. */
void idn_query_count_answer(idn_query_t *q, int transport, const uint8_t *resp, size_t len);

/* Build an error response for a request whose envelope was readable but
 * whose message is not (e.g. MessageLength over the limit on TCP). */
int idn_query_error_for_envelope(idn_query_t *q, const idn_envelope_t *env, uint32_t rcode,
				 const char *message, idn_wire_t *out);

#endif
