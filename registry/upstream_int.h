/* upstream_int.h - internal to the sender: the configured top-level node addresses and their resolution with c-ares. */
#ifndef IDN_UPSTREAM_INT_H
#define IDN_UPSTREAM_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
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
} up_target_t;

typedef struct up_dns up_dns_t;

/* Parse "HOST:PORT,[V6]:PORT,..." into targets; IDN_EINVAL when malformed
 * or empty, IDN_ELIMIT for more than UP_MAX_TARGETS. */
int up_targets_parse(const char *list, up_target_t *t, int *n);

/* The c-ares channel of the sender thread. */
int up_dns_new(up_dns_t **out);
void up_dns_free(up_dns_t *d);
/* Make t's addresses current: a name whose addresses expired (or never
 * came) is resolved again, waiting at most timeout_ms and returning early
 * when *stop becomes true. When a resolution fails the addresses it had
 * stay (stale beats none) and t->error says why. IDN_OK when t has an
 * address now; IDN_ENOTFOUND otherwise. */
int up_dns_refresh(up_dns_t *d, up_target_t *t, int timeout_ms, atomic_bool *stop);

#endif
