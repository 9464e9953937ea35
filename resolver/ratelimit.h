/* ratelimit.h - abuse limits: per-source request rate buckets (per worker) and connection counts per address and in total (shared). */
#ifndef IDN_RATELIMIT_H
#define IDN_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Rules of use:
 * - A source is an IPv4 address (/32) or an IPv6 /64 prefix (one customer
 *   site usually gets a /64, so per-address limits on IPv6 would be
 *   trivially bypassed). IPv4-mapped IPv6 addresses count as IPv4.
 * - idn_ratelimit_t belongs to one thread (a listener worker or an HTTP
 *   thread): no locks, no allocation after idn_ratelimit_new(). Time is the
 *   caller's per-batch clock in microseconds (monotonic).
 * - Each source has two buckets, resolution and writes, as GCRA (the
 *   token-bucket equivalent that keeps one timestamp per bucket): `rate`
 *   requests a second sustained, `burst` at once from an idle source.
 * - The table has a fixed size and is not a precise record of every
 *   source: a source not seen for a while, or pushed out by many others
 *   hashing to the same slots, starts again with a full bucket. That bounds
 *   memory under spoofed floods; a flood from one address still stays in
 *   its slot (it is the most recently seen).
 * - idn_connlimit_t is shared by every worker (a mutex per accept and
 *   close, never per request).
 */

enum { IDN_RL_RESOLVE = 0, IDN_RL_WRITE = 1 };

/* Verdicts of idn_rl_take(). */
enum {
	IDN_RL_PASS = 0,    /* within the limit */
	IDN_RL_ANSWER = 1,  /* over it: answer RC 603 (UDP: one of the first few this second) */
	IDN_RL_DROP = 2,    /* over it: UDP drops it silently (TCP/HTTP answer anyway) */
};

typedef struct {
	uint32_t rate[2];         /* requests a second per source; 0 = that bucket is off */
	uint32_t burst[2];        /* requests at once; 0 = 2 x rate */
	uint32_t answers;         /* over-limit UDP requests answered per second per source */
	uint32_t entries;         /* sources tracked (rounded up to a power of two; 0 = 65536) */
} idn_ratelimit_opts_t;

typedef struct rl_entry rl_entry_t;

typedef struct idn_ratelimit {
	uint32_t interval[2];     /* microseconds per request; 0 = off */
	uint32_t limit[2];        /* burst x interval */
	uint32_t answers;
	uint32_t mask;            /* entries - 1 */
	unsigned shift;           /* 64 - log2(entries) */
	uint64_t evictions;       /* sources pushed out of the table */
	rl_entry_t *tab;
} idn_ratelimit_t;

/* *out = NULL (and IDN_OK) when both buckets are off. IDN_ENOMEM. */
int idn_ratelimit_new(const idn_ratelimit_opts_t *o, idn_ratelimit_t **out);
void idn_ratelimit_free(idn_ratelimit_t *rl);

/* The source key of an address (never 0). */
uint64_t idn_rl_key(const struct sockaddr *sa);

/* One request of `kind` from `key` at `now_us`: IDN_RL_PASS, _ANSWER or _DROP. */
int idn_ratelimit_check(idn_ratelimit_t *rl, uint64_t key, int kind, uint64_t now_us);

/* The hot path: one test when the bucket is off. */
static inline int idn_rl_take(idn_ratelimit_t *rl, uint64_t key, int kind, uint64_t now_us)
{
	if (!rl || !rl->interval[kind])
		return IDN_RL_PASS;
	return idn_ratelimit_check(rl, key, kind, now_us);
}

static inline bool idn_rl_on(const idn_ratelimit_t *rl, int kind)
{
	return rl && rl->interval[kind];
}

/* ---- connections per address and in total (resolver/connlimit.c) ---- */

typedef struct idn_connlimit idn_connlimit_t;

enum { IDN_CL_OK = 0, IDN_CL_PER_ADDRESS = 1, IDN_CL_TOTAL = 2 };

/* per_address / total: 0 = no limit of that kind. IDN_ENOMEM, IDN_EINVAL. */
int idn_connlimit_new(uint32_t per_address, uint32_t total, idn_connlimit_t **out);
void idn_connlimit_free(idn_connlimit_t *cl);
/* A new connection from `key`: IDN_CL_OK (counted), or why it is refused. */
int idn_connlimit_acquire(idn_connlimit_t *cl, uint64_t key);
/* The connection counted by a successful acquire is gone. */
void idn_connlimit_release(idn_connlimit_t *cl, uint64_t key);
/* Connections counted now, and those of one source. */
uint32_t idn_connlimit_total(idn_connlimit_t *cl);
uint32_t idn_connlimit_of(idn_connlimit_t *cl, uint64_t key);

#endif
