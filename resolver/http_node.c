/* http_node.c - the node page (GET /node) and its JSON (GET /api/node): volumes against the policy thresholds. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "proto/civil.h"
#include "proto/json.h"
#include "resolver/http_pages.h"

/*
 * The thresholds are the ones local policies pay on (shared/context):
 * Kunshan's measure 12 rewards a secondary node with 30 million new
 * identifiers a year and 10 million resolutions a day on average;
 * Yancheng's target is 3,500 enterprises registering identifiers. The daily
 * registration figure is the yearly one spread evenly (30M / 365).
 */
#define RES_PER_DAY 10000000ull
#define REG_PER_YEAR 30000000ull
#define REG_PER_DAY 82192ull
#define ENTERPRISES 3500ull

void idn_http_stats(idn_http_t *h, idn_query_stats_t *sum)
{
	memset(sum, 0, sizeof(*sum));
	if (!h || !h->threads)
		return;
	for (int i = 0; i < h->nthreads; i++) {
		/* The thread updates these without atomics; a relaxed 64-bit load
		 * sees a value it wrote, at worst slightly old (approximate, as
		 * idn_server_stats is). */
		idn_query_stats_t *s = &h->threads[i]->q.stats;
		sum->requests += __atomic_load_n(&s->requests, __ATOMIC_RELAXED);
		sum->resolutions += __atomic_load_n(&s->resolutions, __ATOMIC_RELAXED);
		sum->resolved_ok += __atomic_load_n(&s->resolved_ok, __ATOMIC_RELAXED);
		sum->not_found += __atomic_load_n(&s->not_found, __ATOMIC_RELAXED);
		sum->not_homed += __atomic_load_n(&s->not_homed, __ATOMIC_RELAXED);
		sum->site_info += __atomic_load_n(&s->site_info, __ATOMIC_RELAXED);
		sum->malformed += __atomic_load_n(&s->malformed, __ATOMIC_RELAXED);
		sum->errors += __atomic_load_n(&s->errors, __ATOMIC_RELAXED);
	}
}

typedef struct {
	const char *id;
	const char *label;
	uint64_t value;
	uint64_t threshold;       /* 0 = none */
	const char *per;          /* "a day", "a year", "" */
	const char *source;       /* the policy the threshold comes from */
	char note[160];
} metric_t;

enum { M_RES_TODAY, M_REG_TODAY, M_REG_YEAR, M_ENTERPRISES, M_IDS, M_RES_TOTAL, M_N };

static void volumes(http_ctx_t *c, idn_volumes_t *v)
{
	const idn_http_opts_t *o = &c->t->srv->opts;
	if (o->volumes) {
		o->volumes(o->volumes_arg, v);
		return;
	}
	/* Without the daemon: what the HTTP threads counted themselves. */
	idn_query_stats_t q;
	memset(v, 0, sizeof(*v));
	idn_http_stats(c->t->srv, &q);
	v->resolutions = v->resolutions_today = q.resolutions;
	v->now = (int64_t)time(NULL);
}

static void duration_text(int64_t s, char *out, size_t cap)
{
	if (s < 0)
		s = 0;
	long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
	if (d)
		snprintf(out, cap, "%lld d %lld h %lld min", d, h, m);
	else if (h)
		snprintf(out, cap, "%lld h %lld min", h, m);
	else
		snprintf(out, cap, "%lld min %lld s", m, (long long)(s % 60));
}

/* Local time of the node's day boundaries. */
static void local_text(int64_t t, int offset, char *out, size_t cap)
{
	time_t lt = (time_t)(t + (int64_t)offset * 60);
	struct tm tm;
	gmtime_r(&lt, &tm);
	int a = offset < 0 ? -offset : offset;
	snprintf(out, cap, "%04d-%02d-%02d %02d:%02d UTC%c%02d:%02d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, offset < 0 ? '-' : '+', a / 60,
		 a % 60);
}

static double pct_of(const metric_t *m)
{
	return m->threshold ? 100.0 * (double)m->value / (double)m->threshold : 0;
}

static void set(metric_t *m, const char *id, const char *label, uint64_t value,
		uint64_t threshold, const char *per, const char *source)
{
	m->id = id;
	m->label = label;
	m->value = value;
	m->threshold = threshold;
	m->per = per;
	m->source = source;
	m->note[0] = 0;
}

static void metrics(const idn_volumes_t *v, metric_t *m)
{
	memset(m, 0, sizeof(*m) * M_N);
	char t[64];
	set(&m[M_RES_TODAY], "resolutionsToday", "Resolutions today", v->resolutions_today,
				     RES_PER_DAY, "a day", "Kunshan measure 12: daily average");
	local_text(v->started, v->utc_offset, t, sizeof(t));
	/* Started today (node's offset): today's count is everything since start. */
	char sd[9];
	snprintf(sd, sizeof(sd), "%.4s%.2s%.2s", t, t + 5, t + 8);
	bool same_day = v->started && strcmp(sd, v->today) == 0;
	if (v->today_persisted)
		snprintf(m[M_RES_TODAY].note, sizeof(m[0].note), "Since midnight (node time), "
			 "native protocol and HTTP; kept across restarts.");
	else if (same_day)
		snprintf(m[M_RES_TODAY].note, sizeof(m[0].note), "Since start (%s): counted in "
			 "memory, not kept across restarts yet.", t);
	else
		snprintf(m[M_RES_TODAY].note, sizeof(m[0].note), "Since midnight; counted in "
			 "memory since start, not kept across restarts yet.");
	set(&m[M_REG_TODAY], "registrationsToday", "Registrations today",
				     v->registrations_today, REG_PER_DAY, "a day",
				     "30 million a year, spread evenly");
	snprintf(m[M_REG_TODAY].note, sizeof(m[0].note), "New identifiers registered today, "
		 "from the registry's counters.");
	set(&m[M_REG_YEAR], "registrationsYear", "Registrations this year",
				    v->registrations_year, REG_PER_YEAR, "a year",
				    "Kunshan measure 12");
	snprintf(m[M_REG_YEAR].note, sizeof(m[0].note), "New identifiers in %.4s.",
		 v->today[0] ? v->today : "----");
	set(&m[M_ENTERPRISES], "enterprises", "Enterprises", v->enterprises, ENTERPRISES,
				       "", "Yancheng target: enterprises registering identifiers");
	snprintf(m[M_ENTERPRISES].note, sizeof(m[0].note), "Enterprise prefixes under %s.",
		 v->node_prefix[0] ? v->node_prefix : "this node");
	set(&m[M_IDS], "identifiers", "Identifiers stored", v->identifiers, 0, "", "");
	snprintf(m[M_IDS].note, sizeof(m[0].note), "Every identifier held by this node "
		 "(prefix records not counted).");
	set(&m[M_RES_TOTAL], "resolutionsSinceStart", "Resolutions since start",
				     v->resolutions, 0, "", "");
	int64_t up = v->started ? v->now - v->started : 0;
	snprintf(m[M_RES_TOTAL].note, sizeof(m[0].note), "Native protocol and HTTP; %.1f a "
		 "second on average.", up > 0 ? (double)v->resolutions / (double)up : 0.0);
}

/* Tiny shares stay visible as "< 0.001%" rather than a flat 0 (the JS
 * refresh in http_assets.c words it the same). */
static void pct_text(double p, char *out, size_t cap)
{
	if (p == 0)
		snprintf(out, cap, "0%%");
	else if (p < 0.001)
		snprintf(out, cap, "&lt; 0.001%%");
	else
		snprintf(out, cap, p < 1 ? "%.3f%%" : "%.1f%%", p);
}

static void metric_html(struct evbuffer *b, const metric_t *m)
{
	char val[32], thr[32];
	idn_thousands(m->value, val, sizeof(val));
	evbuffer_add_printf(b, "<section class=\"card metric\" id=\"m-%s\" aria-labelledby=\"l-%s\">\n"
			       "<h2 class=\"label\" id=\"l-%s\">%s</h2>\n<p class=\"value\">%s</p>\n",
			    m->id, m->id, m->id, m->label, val);
	if (m->threshold) {
		double p = pct_of(m);
		char ps[32];
		pct_text(p, ps, sizeof(ps));
		idn_thousands(m->threshold, thr, sizeof(thr));
		evbuffer_add_printf(b, "<p class=\"of\">of %s%s%s <span class=\"note\">(%s)</span></p>\n"
				       "<div class=\"bar%s\" role=\"progressbar\" aria-valuemin=\"0\" "
				       "aria-valuemax=\"100\" aria-valuenow=\"%.2f\" aria-label=\"%s: "
				       "%s of the threshold\"><span style=\"width:%.2f%%\"></span></div>\n"
				       "<p class=\"pct\">%s of the threshold</p>\n",
				    thr, m->per[0] ? " " : "", m->per, m->source, p >= 100 ? " ok" : "",
				    p > 100 ? 100.0 : p, m->label, ps, p > 100 ? 100.0 : p, ps);
	}
	evbuffer_add_printf(b, "<p class=\"note\">");
	page_escz(b, m->note);
	evbuffer_add_printf(b, "</p>\n</section>\n");
}

void http_node_page(http_ctx_t *c)
{
	idn_volumes_t v;
	metric_t m[M_N];
	volumes(c, &v);
	metrics(&v, m);
	struct evbuffer *b = c->t->out;
	char title[96], started[64], up[64], now[64];
	snprintf(title, sizeof(title), "Node %s", v.node_prefix[0] ? v.node_prefix : "");
	page_begin(b, title, "node", "node.js");
	evbuffer_add_printf(b, "<h1>Node <span class=\"handle\">");
	page_escz(b, v.node_prefix[0] ? v.node_prefix : "(unknown)");
	evbuffer_add_printf(b, "</span></h1>\n<section class=\"card\" aria-labelledby=\"about\">\n"
			       "<h2 id=\"about\">This node</h2>\n<dl class=\"kv\">\n<dt>Node prefix</dt><dd>");
	page_escz(b, v.node_prefix[0] ? v.node_prefix : "-");
	evbuffer_add_printf(b, "</dd>\n<dt>Site address</dt><dd>");
	page_escz(b, v.site_address[0] ? v.site_address : "-");
	local_text(v.now, v.utc_offset, now, sizeof(now));
	local_text(v.started, v.utc_offset, started, sizeof(started));
	duration_text(v.started ? v.now - v.started : 0, up, sizeof(up));
	evbuffer_add_printf(b, " <span class=\"note\">(Handle protocol, TCP and UDP)</span></dd>\n"
			       "<dt>Started</dt><dd>%s</dd>\n<dt>Uptime</dt><dd id=\"uptime\">%s</dd>\n"
			       "<dt>Now</dt><dd>%s <span class=\"note\">(days run in this "
			       "offset)</span></dd>\n</dl>\n</section>\n<div class=\"grid\">\n",
			    v.started ? started : "-", v.started ? up : "-", now);
	for (int i = 0; i < M_N; i++)
		metric_html(b, &m[i]);
	evbuffer_add_printf(b, "</div>\n<p class=\"note\">Thresholds: 10 million resolutions a day "
			       "and 30 million new identifiers a year (Kunshan, measure 12), "
			       "3,500 enterprises (Yancheng). The same figures as JSON: "
			       "<a href=\"/api/node?pretty\">/api/node</a>.</p>\n");
	page_end(c, 200);
}

void http_api_node(http_ctx_t *c)
{
	idn_volumes_t v;
	metric_t m[M_N];
	volumes(c, &v);
	metrics(&v, m);
	json_t *o = json_object(), *arr = json_array();
	if (!o || !arr) {
		json_decref(o);
		json_decref(arr);
		http_reply_json(c, 500, NULL);
		return;
	}
	char ts[32], up[64], day[16];
	json_object_set_new(o, "responseCode", json_integer(1));
	json_object_set_new(o, "nodePrefix", json_string(v.node_prefix));
	json_object_set_new(o, "siteAddress", json_string(v.site_address));
	if (v.started) {
		idn_iso8601((uint32_t)v.started, ts, sizeof(ts));
		json_object_set_new(o, "started", json_string(ts));
	}
	idn_iso8601((uint32_t)v.now, ts, sizeof(ts));
	json_object_set_new(o, "now", json_string(ts));
	json_object_set_new(o, "uptimeSeconds", json_integer(v.started ? v.now - v.started : 0));
	duration_text(v.started ? v.now - v.started : 0, up, sizeof(up));
	json_object_set_new(o, "uptimeText", json_string(up));
	json_object_set_new(o, "utcOffsetMinutes", json_integer(v.utc_offset));
	snprintf(day, sizeof(day), "%.4s-%.2s-%.2s", v.today, v.today + 4, v.today + 6);
	json_object_set_new(o, "day", json_string(v.today[0] ? day : ""));
	/* Counted in memory since the daemon started (persisted later). */
	json_object_set_new(o, "resolutionsCountedSince", json_string("start"));
	for (int i = 0; i < M_N; i++) {
		json_t *e = json_object();
		if (!e)
			continue;
		json_object_set_new(e, "id", json_string(m[i].id));
		json_object_set_new(e, "label", json_string(m[i].label));
		json_object_set_new(e, "value", json_integer((json_int_t)m[i].value));
		if (m[i].threshold) {
			json_object_set_new(e, "threshold", json_integer((json_int_t)m[i].threshold));
			json_object_set_new(e, "per", json_string(m[i].per));
			json_object_set_new(e, "percent", json_real(pct_of(&m[i])));
			json_object_set_new(e, "source", json_string(m[i].source));
		}
		json_object_set_new(e, "note", json_string(m[i].note));
		json_array_append_new(arr, e);
	}
	json_object_set_new(o, "metrics", arr);
	http_reply_json(c, 200, o);
}
