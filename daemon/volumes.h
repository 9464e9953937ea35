/* volumes.h - the node's volumes for its pages: resolutions, registrations, enterprises, identifiers. */
#ifndef IDN_VOLUMES_H
#define IDN_VOLUMES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "resolver/http.h"
#include "resolver/server.h"
#include "storage/store.h"

/*
 * Rules of use:
 * - idn_volumes_init() before the HTTP server is created (its opts take
 *   idn_volumes_fill and the source); set `http` once it exists;
 *   idn_volumes_attach() adds a ticker to the daemon's loop that notices
 *   midnight (in the node's utc-offset) so "resolutions today" restarts
 *   from the total seen then; idn_volumes_deinit() removes the ticker
 *   before the loop is freed. The source itself must outlive the HTTP
 *   threads (the daemon keeps it static).
 * - idn_volumes_fill() runs on HTTP threads, any number at once: it reads
 *   the store through its own short-lived snapshot and the listeners'
 *   published counters.
 * - Resolutions are counted since start only (the counters live in the
 *   listeners); registrations come from the registry's store counters and
 *   so survive restarts.
 */
typedef struct {
	idn_store_t *store;
	idn_server_t *srv;
	idn_http_t *http;            /* NULL until created (or HTTP off) */
	char node_prefix[64];
	char site_address[80];
	int utc_offset;              /* minutes */
	int64_t started;

	pthread_mutex_t mu;          /* day and day_base */
	char day[9];
	uint64_t day_base;           /* total resolutions when `day` began (0: start day) */
	struct event *tick;
	/* Today's resolutions as persisted by the volume accounting (NULL: the
	 * in-memory count since start is shown). */
	uint64_t (*today)(void *arg);
	void *today_arg;
} idn_volumes_src_t;

void idn_volumes_init(idn_volumes_src_t *v, idn_store_t *store, idn_server_t *srv,
		      const char *node_prefix, const char *site_address, int utc_offset_minutes);
/* 0, or -1 when the ticker cannot be added (the figures still work; the
 * day boundary is then noticed on the next page view). */
int idn_volumes_attach(idn_volumes_src_t *v, struct event_base *base);
void idn_volumes_deinit(idn_volumes_src_t *v);
/* The callback of idn_http_opts_t.volumes (arg = the idn_volumes_src_t). */
void idn_volumes_fill(void *arg, idn_volumes_t *out);

#endif
