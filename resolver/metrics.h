/* metrics.h - the figures GET /metrics exposes (Prometheus text), filled by the daemon through idn_http_opts_t.metrics. */
#ifndef IDN_METRICS_H
#define IDN_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "resolver/query.h"

/* The names the volume accounting uses for transports and results, in
 * counter names ("res:20261201:udp:ok") and metric labels. */
static inline const char *idn_transport_name(int t)
{
	return t == 0 ? "udp" : t == 1 ? "tcp" : t == 2 ? "http" : "other";
}

static inline const char *idn_res_result_name(int r)
{
	switch (r) {
	case IDN_RES_OK: return "ok";
	case IDN_RES_NOT_FOUND: return "not_found";
	case IDN_RES_VALUES_NOT_FOUND: return "values_not_found";
	case IDN_RES_NOT_HOMED: return "not_homed";
	case IDN_RES_REFERRAL: return "referral";
	default: return "error";
	}
}

typedef struct idn_metrics {
	char node[64];                 /* node prefix (label of idnode_info) */
	char version[16];
	int64_t now, started;          /* Unix seconds */
	/* Resolutions ever answered (persisted counters + not yet flushed). */
	uint64_t resolutions[IDN_QS_TRANSPORTS][IDN_RES_COUNT];
	uint64_t resolutions_today;    /* the node's local day (utc-offset) */
	uint64_t registrations_total;  /* sum of regday:* */
	uint64_t registrations_today, registrations_year;
	uint64_t enterprises_year;     /* prefixes that registered this year */
	uint64_t identifiers;          /* counter "ids" (registered through the registry) */
	uint64_t store_handles;        /* every stored handle (loads and prefix handles too) */
	uint64_t enterprise_prefixes;  /* counter "prefixes" */
	/* the registry */
	uint64_t commits, queue, writes_ok, writes_refused, auth_ok, auth_failed;
	/* the native listeners */
	uint64_t requests, malformed, tcp_connections;
	/* the abuse limits (native listeners and HTTP threads summed;
	 * idn_query_stats_t's fields of the same names) */
	uint64_t rate_limited_udp_dropped, rate_limited_answered, udp_answers_capped;
	uint64_t tcp_refused_per_address, tcp_refused_total, tcp_slow_closed, oversized_requests;
	/* the volume accounting */
	uint64_t flushes, flush_errors;
	int64_t last_flush;            /* Unix seconds, 0 = none yet */
	/* the outbox to the top (idn_registry_outbox_stats) */
	bool outbox_known;
	uint64_t outbox_length;
	int64_t outbox_oldest_age;     /* seconds */
} idn_metrics_t;

/* The HTTP threads' resolutions by result (relaxed reads, approximate
 * while running), for the daemon's accounting: res[IDN_TR_HTTP] of their
 * query steps. NULL h: zeros. */
struct idn_http;
void idn_http_resolution_stats(struct idn_http *h, uint64_t out[IDN_RES_COUNT]);

/* The Prometheus text (format 0.0.4) of m, appended to b. */
struct evbuffer;
void idn_metrics_text(const idn_metrics_t *m, struct evbuffer *b);

#endif
