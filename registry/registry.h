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
	/* The server's private key: answers to requests with CT are signed
	 * with it (NULL: the listener's job ctx decides). Borrowed. */
	const idn_pkey_t *sign_key;
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
void idn_registry_stop(idn_registry_t *r);
void idn_registry_free(idn_registry_t *r);
void idn_registry_stats(idn_registry_t *r, idn_registry_stats_t *st);

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

/* Parse "INDEX:HANDLE" into an identity; IDN_EINVAL when malformed. */
int idn_identity_parse(const char *s, idn_identity_t *id);

#endif
