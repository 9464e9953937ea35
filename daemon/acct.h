/* acct.h - volume accounting: the listeners' resolution counts persisted as day counters, /metrics, the daily report to the top. */
#ifndef IDN_ACCT_H
#define IDN_ACCT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "proto/pkey.h"
#include "proto/volreport.h"
#include "registry/registry.h"
#include "resolver/http.h"
#include "resolver/metrics.h"
#include "resolver/server.h"
#include "storage/store.h"

/*
 * Counters (store, through the registry, the only writer):
 *   res:<YYYYMMDD>:<transport>:<result>  resolutions of a local day
 *   restotal:<transport>:<result>        resolutions ever
 *   volrep:<YYYYMMDD>                    the daily report of that day was queued
 * with transport udp|tcp|http and result ok|not_found|values_not_found|
 * not_homed|referral|error, days in the node's utc-offset.
 *
 * Rules of use:
 * - idn_acct_init() after the registry is created (it reads the persisted
 *   totals); set srv/http once they exist; idn_acct_attach() adds the
 *   once-a-second flush to the daemon's loop (armed on whole seconds, so a
 *   day boundary is flushed within milliseconds of midnight); after the
 *   listeners are stopped and before idn_registry_stop(), idn_acct_final()
 *   hands over the last deltas (the stop commits them); idn_acct_deinit()
 *   before the loop is freed.
 * - A flush attributes what was counted since the previous flush to the
 *   day that flush happened in: the deltas of the last second before
 *   midnight belong to the old day.
 * - idn_acct_metrics() (the idn_http_opts_t.metrics callback) and
 *   idn_acct_today() run on any thread.
 */

#define IDN_ACCT_T IDN_QS_TRANSPORTS
#define IDN_ACCT_R IDN_RES_COUNT

typedef uint64_t idn_acct_counts_t[IDN_ACCT_T][IDN_ACCT_R];

typedef struct {
	idn_registry_t *reg;
	idn_store_t *store;
	idn_server_t *srv;           /* NULL until set */
	idn_http_t *http;            /* NULL until set, or HTTP off */
	const idn_pkey_t *key;       /* signs the daily report (NULL: unsigned) */
	char node_prefix[64];
	char version[16];
	int utc_offset;              /* minutes */
	int64_t started;

	pthread_mutex_t mu;
	idn_acct_counts_t flushed;   /* listener counts at the last flush */
	idn_acct_counts_t base_total;/* restotal:* when the daemon started */
	idn_acct_counts_t day_base;  /* res:<day>:* persisted before the start (start day) */
	idn_acct_counts_t day_from;  /* listener counts when `day` began */
	int64_t day;                 /* local day of the last flush */
	int64_t last_flush;
	uint64_t flushes, flush_errors;
	int64_t report_day;          /* day whose report is due; INT64_MIN = none */
	int64_t report_at;           /* not before (the day's last flush committed) */
	int64_t report_now_at;       /* SIGUSR1: today's report so far, not before; 0 = none */
	struct event *tick;
} idn_acct_t;

int idn_acct_init(idn_acct_t *a, idn_store_t *store, idn_registry_t *reg, const idn_pkey_t *key,
		  const char *node_prefix, int utc_offset_minutes, int64_t now);
int idn_acct_attach(idn_acct_t *a, struct event_base *base);
void idn_acct_deinit(idn_acct_t *a);

/* The listeners' counts now (native + HTTP). */
void idn_acct_collect(idn_acct_t *a, idn_acct_counts_t cur);
/* Hand the deltas of `cur` since the last flush to the registry as counted
 * on the day of that flush, then move to the day of `now` (unit tests call
 * this with their own counts and times). IDN_OK or the registry's error. */
int idn_acct_flush_at(idn_acct_t *a, idn_acct_counts_t cur, int64_t now);
/* collect + flush_at(now) + the daily report when due. */
void idn_acct_tick(idn_acct_t *a, int64_t now);
/* On demand (SIGUSR1): queue today's report so far at the tick after the
 * next flush (not marked in volrep:, so midnight's full report still goes). */
void idn_acct_request_report(idn_acct_t *a, int64_t now);
/* The last flush, at shutdown. */
void idn_acct_final(idn_acct_t *a);

/* Resolutions on the current local day (persisted + unflushed), for the
 * node page's figures. */
uint64_t idn_acct_today(idn_acct_t *a);
/* The idn_http_opts_t.metrics callback (arg = the idn_acct_t). */
void idn_acct_metrics(void *arg, struct idn_metrics *m);

/* The report of local day `day` from the store's counters (committed by
 * then); the date is written YYYY-MM-DD. */
int idn_acct_report_of(idn_acct_t *a, int64_t day, idn_volreport_t *v);

#endif
