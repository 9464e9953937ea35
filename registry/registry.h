/* registry.h - the write side: authentication, permissions, prefixes, quotas and group-committed registration. */
#ifndef IDN_REGISTRY_H
#define IDN_REGISTRY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/op.h"
#include "proto/pkey.h"
#include "storage/store.h"

/*
 * Rules of use:
 * - One registry per store: it is the only writer (the daemon's start-up
 *   code runs before it). idn_registry_new() then _start() the writer
 *   thread; idn_registry_submit() is the entry of the listeners' dispatch
 *   table (proto/op.h), called on listener threads; _stop() answers every
 *   job it still holds (committing what is queued) and joins the writer;
 *   _free() releases everything. Stop the listeners first, then the registry.
 * - Writes are answered only after the LMDB transaction holding them is
 *   durably committed. Concurrent writes from all connections are gathered
 *   into one transaction (group commit); each runs in a child transaction,
 *   so a refused request changes nothing and never spoils the others.
 * - Every change is appended to the store's change log in the same
 *   transaction, with the identity that made it.
 * - The options are copied; the strings they point to must outlive the
 *   registry. The registry never logs by itself: it calls opts->log.
 */

typedef struct idn_registry idn_registry_t;

#define IDN_REG_MAX_ADMINS 16

typedef struct {
	idn_store_t *store;
	const char *node_prefix;       /* e.g. "88.100" */
	/* Server administrators ("300:0.NA/88.100"): they may home, unhome and
	 * list prefixes, and pass every HS_ADMIN check (CNRI's
	 * server_admin_full_access). */
	const char *server_admins[IDN_REG_MAX_ADMINS];
	int n_server_admins;
	const uint8_t *site;           /* HS_SITE given to new enterprise prefix handles */
	size_t site_len;
	int max_auth_time;             /* seconds a challenge stays valid (default 60) */
	int max_batch;                 /* writes per commit at most (default 4096) */
	uint64_t quota_identifiers;    /* default per enterprise prefix, 0 = none */
	uint64_t quota_daily;          /* default registrations per day, 0 = none */
	int utc_offset;                /* seconds east of UTC for day counters */
	/* Abuse limits on writes: values in one handle (0 = IDN_MAX_VALUES)
	 * and bytes of a handle created (0 = 255); RC 202 / RC 102 beyond. */
	uint32_t max_values;
	uint32_t max_handle_len;
	/* The server's private key: answers to requests with CT are signed
	 * with it (NULL: the listener's job ctx decides). Borrowed. */
	const idn_pkey_t *sign_key;
	/* The top-level node (registry/upstream.c). NULL or "" = none: nothing
	 * is queued. "HOST:PORT,HOST:PORT": names (resolved with c-ares) or
	 * addresses, tried in turn. */
	const char *upstream;
	const char *upstream_identity; /* "300:0.NA/88.100" (NULL: that, for node_prefix) */
	const char *upstream_key;      /* PEM private key of the identity */
	int upstream_retry_max;        /* seconds between attempts at most (default 300) */
	void (*log)(int level, const char *fmt, va_list ap);
} idn_registry_opts_t;

typedef struct {
	uint64_t commits;              /* write transactions committed */
	uint64_t writes_ok;            /* requests committed and acknowledged */
	uint64_t writes_refused;       /* requests answered with an error */
	uint64_t challenges;           /* RC 402 sent */
	uint64_t auth_ok, auth_failed;
	uint64_t queued;               /* jobs waiting for the writer now */
} idn_registry_stats_t;

int idn_registry_new(const idn_registry_opts_t *o, idn_registry_t **out);
int idn_registry_start(idn_registry_t *r);
void idn_registry_submit(void *registry, idn_job_t *job);
/* The dispatch table's verify entry (proto/op.h): credentials checked by
 * the listeners themselves (HTTP), counted in auth_ok / auth_failed. */
int idn_registry_verify(void *registry, struct idn_reader *rd, const idn_verify_t *v,
			idn_identity_t *who);
void idn_registry_stop(idn_registry_t *r);
void idn_registry_free(idn_registry_t *r);
void idn_registry_stats(idn_registry_t *r, idn_registry_stats_t *st);
/* Config reload: new default quotas (o.quota_identifiers, o.quota_daily),
 * in force from the writer's next batch; any thread. */
void idn_registry_set_quotas(idn_registry_t *r, uint64_t identifiers, uint64_t daily);

/*
 * Volume counters from outside the registry (resolutions counted by the
 * listeners): each delta is added to the store counter `name` (1 to
 * IDN_COUNTER_MAX_NAME bytes, copied) in the writer's next group commit,
 * with the writes waiting then or alone when there are none, so the
 * registry stays the store's only writer. Returns at once (nothing waits
 * for the commit); deltas to the same name are merged until then.
 * idn_registry_stop() commits what is pending. A commit that fails keeps
 * them for the next call. IDN_EINVAL / IDN_ELIMIT for an empty / too long
 * name (nothing taken), IDN_ELIMIT when IDN_REG_MAX_PENDING_COUNTERS
 * different names wait, IDN_ENOMEM.
 */
typedef struct {
	const char *name;              /* NUL-terminated: "res:20261201:udp:ok" */
	int64_t delta;
} idn_counter_delta_t;

#define IDN_REG_MAX_PENDING_COUNTERS 4096

int idn_registry_add_counters(idn_registry_t *r, const idn_counter_delta_t *d, size_t n);

/*
 * Upstream: what must reach the top-level node goes through the store's
 * outbox, written in the same transaction as the local change, and a
 * sender thread (started with the registry when o.upstream is set) delivers
 * it in order: one TCP connection at a time, logged in once (IDIS OC 2001)
 * or, where the top does not know that, a challenge answered per request.
 * A request the top refuses stays queued and is retried at the longest
 * interval; later requests for other handles go on meanwhile.
 *
 * idn_registry_upstream: queue one request (native body, see
 * proto/admin.h; the handle first) through the writer; returns after the
 * durable commit. Send only idempotent requests: creates with OVRW, adds
 * with OVRW, deletes (RC 100 counts as done). IDN_EINVAL when upstream is
 * not configured or the registry is not running.
 * idn_registry_upstream_once: the same, unless the request queued last
 * under meta name `key` was the same bytes (*queued says which); e.g. a
 * daily report queued at every start but sent once.
 * idn_registry_upstream_sync: at start, the node's own prefix record at the
 * top (OC 102 OVRW on 0.NA/<node-prefix>: HS_SITE 1 and HS_SITE.PREFIX 2 =
 * o.site, HS_PUBKEY 300 = admin_pub) when it changed since it was last
 * queued, and every local enterprise prefix when this upstream list never
 * got them. *queued: entries added.
 */
int idn_registry_upstream(idn_registry_t *r, uint32_t opcode, uint32_t opflag,
			  const uint8_t *body, size_t len);
int idn_registry_upstream_once(idn_registry_t *r, const char *key, uint32_t opcode,
			       uint32_t opflag, const uint8_t *body, size_t len, bool *queued);
int idn_registry_upstream_sync(idn_registry_t *r, const uint8_t *admin_pub, size_t publen,
			       uint64_t *queued);

/* The outbox and its sender, for the operator (/metrics, logs). */
typedef struct {
	uint64_t length;               /* entries waiting */
	uint32_t oldest_age;           /* seconds the oldest has waited; 0 when empty */
	uint64_t sent;                 /* delivered since start (RC 1, or 100 for a delete) */
	uint64_t refused;              /* answers that will not change by retrying (kept) */
	uint64_t failures;             /* attempts that failed otherwise (no answer, busy) */
	uint32_t last_error_time;      /* Unix seconds of last_error; 0 = none */
	char last_error[256];          /* "0.NA/88.100.12: 400 INVALID_ADMIN: ..." */
	char upstream[80];             /* address in use ("127.0.0.1:2641"), "" = none */
} idn_outbox_stats_t;
void idn_registry_outbox_stats(idn_registry_t *r, idn_outbox_stats_t *st);

/* Parse "INDEX:HANDLE" into an identity; IDN_EINVAL when malformed. */
int idn_identity_parse(const char *s, idn_identity_t *id);

#endif
