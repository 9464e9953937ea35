/* http_metrics.c - GET /metrics: the node's counters in Prometheus text exposition format 0.0.4. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "resolver/http_int.h"
#include "resolver/metrics.h"

void idn_http_resolution_stats(struct idn_http *h, uint64_t out[IDN_RES_COUNT])
{
	memset(out, 0, sizeof(uint64_t) * IDN_RES_COUNT);
	if (!h || !h->threads)
		return;
	for (int i = 0; i < h->nthreads; i++) {
		/* Written by the thread without atomics; a relaxed load sees a
		 * value it wrote (as idn_http_stats reads the others). */
		uint64_t *r = h->threads[i]->q.stats.res[IDN_TR_HTTP];
		for (int j = 0; j < IDN_RES_COUNT; j++)
			out[j] += __atomic_load_n(&r[j], __ATOMIC_RELAXED);
	}
}

/* Label values: backslash, double quote and line feed escaped (0.0.4). */
static void label(struct evbuffer *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			evbuffer_add(b, "\\\\", 2);
		else if (*s == '"')
			evbuffer_add(b, "\\\"", 2);
		else if (*s == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, s, 1);
	}
}

static void head(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void one(struct evbuffer *b, const char *name, const char *type, const char *help,
		uint64_t v)
{
	head(b, name, type, help);
	evbuffer_add_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

void idn_metrics_text(const idn_metrics_t *m, struct evbuffer *b)
{
	head(b, "idnode_info", "gauge", "The node: its prefix and software version.");
	evbuffer_add_printf(b, "idnode_info{node=\"");
	label(b, m->node);
	evbuffer_add_printf(b, "\",version=\"");
	label(b, m->version);
	evbuffer_add_printf(b, "\"} 1\n");
	one(b, "idnode_start_time_seconds", "gauge", "Unix time the daemon started.",
	    (uint64_t)(m->started > 0 ? m->started : 0));

	head(b, "idnode_resolutions_total", "counter",
	     "Resolutions (OC 1) answered, by transport and result; persisted across restarts.");
	for (int t = 0; t < IDN_QS_TRANSPORTS; t++)
		for (int r = 0; r < IDN_RES_COUNT; r++) {
			evbuffer_add_printf(b, "idnode_resolutions_total{transport=\"");
			label(b, idn_transport_name(t));
			evbuffer_add_printf(b, "\",result=\"");
			label(b, idn_res_result_name(r));
			evbuffer_add_printf(b, "\"} %llu\n", (unsigned long long)m->resolutions[t][r]);
		}
	one(b, "idnode_resolutions_today", "gauge",
	    "Resolutions on the node's current local day (utc-offset).", m->resolutions_today);
	one(b, "idnode_registrations_total", "counter", "New identifiers registered, ever.",
	    m->registrations_total);
	one(b, "idnode_registrations_today", "gauge",
	    "New identifiers registered on the node's current local day.", m->registrations_today);
	one(b, "idnode_registrations_year", "gauge",
	    "New identifiers registered in the node's current local year.", m->registrations_year);
	one(b, "idnode_enterprises_year", "gauge",
	    "Enterprise prefixes that registered identifiers this year.", m->enterprises_year);
	one(b, "idnode_identifiers", "gauge",
	    "Identifiers registered under enterprise prefixes and not deleted.", m->identifiers);
	one(b, "idnode_store_handles", "gauge",
	    "Handles in the store (bulk loads and prefix handles included).", m->store_handles);
	one(b, "idnode_enterprise_prefixes", "gauge", "Enterprise prefixes created.",
	    m->enterprise_prefixes);

	one(b, "idnode_registry_commits_total", "counter", "Durable write transactions.",
	    m->commits);
	one(b, "idnode_registry_writes_total", "counter", "Write requests committed.",
	    m->writes_ok);
	one(b, "idnode_registry_refused_total", "counter", "Write requests refused.",
	    m->writes_refused);
	head(b, "idnode_registry_auth_total", "counter", "Authentications by outcome.");
	evbuffer_add_printf(b, "idnode_registry_auth_total{result=\"ok\"} %llu\n",
			    (unsigned long long)m->auth_ok);
	evbuffer_add_printf(b, "idnode_registry_auth_total{result=\"failed\"} %llu\n",
			    (unsigned long long)m->auth_failed);
	one(b, "idnode_registry_queue", "gauge", "Writes waiting for the writer.", m->queue);

	one(b, "idnode_requests_total", "counter", "Native (UDP and TCP) requests since start.",
	    m->requests);
	one(b, "idnode_malformed_requests_total", "counter",
	    "Undecodable native requests since start (UDP garbage included).", m->malformed);
	one(b, "idnode_tcp_connections", "gauge", "Open native TCP connections.",
	    m->tcp_connections);

	head(b, "idnode_rate_limited_total", "counter",
	     "Requests over a per-source rate limit, by what happened to them.");
	evbuffer_add_printf(b, "idnode_rate_limited_total{action=\"dropped\"} %llu\n",
			    (unsigned long long)m->rate_limited_udp_dropped);
	evbuffer_add_printf(b, "idnode_rate_limited_total{action=\"answered\"} %llu\n",
			    (unsigned long long)m->rate_limited_answered);
	one(b, "idnode_udp_answers_capped_total", "counter",
	    "UDP answers over udp-max-answer replaced by RC 2 \"use TCP\".", m->udp_answers_capped);
	head(b, "idnode_tcp_refused_total", "counter", "TCP connections refused, by limit.");
	evbuffer_add_printf(b, "idnode_tcp_refused_total{limit=\"per_address\"} %llu\n",
			    (unsigned long long)m->tcp_refused_per_address);
	evbuffer_add_printf(b, "idnode_tcp_refused_total{limit=\"total\"} %llu\n",
			    (unsigned long long)m->tcp_refused_total);
	one(b, "idnode_tcp_slow_closed_total", "counter",
	    "TCP connections closed by tcp-slow-timeout.", m->tcp_slow_closed);
	one(b, "idnode_oversized_requests_total", "counter",
	    "Native requests over max-request (answered RC 4 or dropped).", m->oversized_requests);

	one(b, "idnode_volume_flushes_total", "counter",
	    "Resolution counters handed to the registry (once a second).", m->flushes);
	one(b, "idnode_volume_flush_errors_total", "counter",
	    "Flushes the registry refused.", m->flush_errors);
	one(b, "idnode_volume_last_flush_seconds", "gauge", "Unix time of the last flush.",
	    (uint64_t)(m->last_flush > 0 ? m->last_flush : 0));

	one(b, "idnode_outbox_length", "gauge", "Requests waiting to go to the top-level node.",
	    m->outbox_known ? m->outbox_length : 0);
	one(b, "idnode_outbox_oldest_age_seconds", "gauge",
	    "Age of the oldest request waiting for the top-level node.",
	    m->outbox_known && m->outbox_oldest_age > 0 ? (uint64_t)m->outbox_oldest_age : 0);
}

static void get_metrics(http_ctx_t *c)
{
	const idn_http_opts_t *o = &c->t->srv->opts;
	idn_metrics_t m;
	memset(&m, 0, sizeof(m));
	if (o->metrics) {
		o->metrics(o->metrics_arg, &m);
	} else {
		/* Without the daemon: what the HTTP threads counted themselves. */
		m.now = (int64_t)time(NULL);
		idn_http_resolution_stats(c->t->srv, m.resolutions[IDN_TR_HTTP]);
	}
	struct evbuffer *b = c->t->out;
	evbuffer_drain(b, evbuffer_get_length(b));
	idn_metrics_text(&m, b);
	http_reply_raw(c, 200, "text/plain; version=0.0.4; charset=utf-8", NULL, 0);
}

const http_route_t http_metrics_routes[] = {
	{ EVHTTP_REQ_GET, "/metrics", HTTP_EXACT, get_metrics },
	{ 0, NULL, 0, NULL },
};
