/* resolve.h - the configured top-level node addresses (HOST:PORT lists) and their resolution with c-ares, cached for their TTL; used by the outbox sender (blocking, its own thread) and the recursor (driven from its event loop). */
#ifndef IDN_CLIENT_RESOLVE_H
#define IDN_CLIENT_RESOLVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#define UP_MAX_TARGETS 16
#define UP_MAX_ADDRS 8

/* One configured HOST:PORT: a numeric address, or a name with the
 * addresses it resolved to and when they expire (their TTL). */
typedef struct {
	char host[256];
	uint16_t port;
	bool numeric;
	struct sockaddr_storage addrs[UP_MAX_ADDRS];
	int naddrs;
	time_t expires;           /* names: resolve again from then on */
	char error[320];          /* the last resolution failure, "" = none */
	bool resolving;           /* an up_dns_refresh_async query is in flight */
} up_target_t;

typedef struct up_dns up_dns_t;

/* Parse "HOST:PORT,[V6]:PORT,..." into targets; IDN_EINVAL when malformed
 * or empty, IDN_ELIMIT for more than UP_MAX_TARGETS. */
int up_targets_parse(const char *list, up_target_t *t, int *n);

/* A c-ares channel; one per thread that uses it (the sender's, the
 * recursor's), as a channel is not shared between threads here. */
int up_dns_new(up_dns_t **out);
void up_dns_free(up_dns_t *d);
/* Make t's addresses current: a name whose addresses expired (or never
 * came) is resolved again, waiting at most timeout_ms and returning early
 * when *stop becomes true. When a resolution fails the addresses it had
 * stay (stale beats none) and t->error says why. IDN_OK when t has an
 * address now; IDN_ENOTFOUND otherwise. */
int up_dns_refresh(up_dns_t *d, up_target_t *t, int timeout_ms, atomic_bool *stop);

/*
 * The same without waiting, for an event loop that must never block:
 * up_dns_refresh_async starts resolving t when its addresses expired (or
 * never came) and no query for it is in flight, and returns true then;
 * t keeps the addresses it had meanwhile. done(arg, t) is called from
 * up_dns_process (or at the query's timeout) once t is current again or
 * the resolution failed (t->error says why), never after up_dns_free.
 * The loop watches what up_dns_fds lists (at most UP_DNS_MAX_FDS), calls
 * up_dns_process for the ready ones, and calls up_dns_process(d, -1, -1)
 * when up_dns_timeout's delay has passed; after each call it asks both
 * again, as the sockets come and go with the queries.
 */
#define UP_DNS_MAX_FDS 16
typedef void (*up_dns_done_fn)(void *arg, up_target_t *t);
bool up_dns_refresh_async(up_dns_t *d, up_target_t *t, up_dns_done_fn done, void *arg);
/* The sockets to watch; rd[i]/wr[i] tell for which events. */
int up_dns_fds(up_dns_t *d, int *fds, bool *rd, bool *wr);
void up_dns_process(up_dns_t *d, int rfd, int wfd);
/* false when no query is in flight (nothing to time out). */
bool up_dns_timeout(up_dns_t *d, struct timeval *tv);

#endif
