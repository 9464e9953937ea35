/* acct.c - volume accounting: per-second deltas of the listeners' resolution counts to day counters, /metrics figures, the daily report. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "daemon/acct.h"
#include "daemon/log.h"
#include "proto/admin.h"
#include "proto/civil.h"
#include "proto/msg.h"
#include "proto/record.h"

#define REPORT_DELAY 5         /* seconds after midnight: the day's last flush is committed */

/* ---- reading counters ---- */

typedef struct {
	uint64_t sum, n;
	idn_acct_counts_t *by;   /* "<prefix><transport>:<result>" parsed into it, or NULL */
	size_t plen;
} ctr_sum_t;

static int parse_tr_res(const uint8_t *p, size_t len, int *t, int *r)
{
	for (int i = 0; i < IDN_ACCT_T; i++) {
		const char *tn = idn_transport_name(i);
		size_t tl = strlen(tn);
		if (len <= tl || memcmp(p, tn, tl) != 0 || p[tl] != ':')
			continue;
		for (int j = 0; j < IDN_ACCT_R; j++) {
			const char *rn = idn_res_result_name(j);
			if (len - tl - 1 == strlen(rn) && memcmp(p + tl + 1, rn, strlen(rn)) == 0) {
				*t = i;
				*r = j;
				return 0;
			}
		}
	}
	return -1;
}

static int on_counter(void *arg, idn_bytes_t name, uint64_t value)
{
	ctr_sum_t *s = arg;
	s->sum += value;
	s->n++;
	int t, r;
	if (s->by && parse_tr_res(name.p + s->plen, name.len - s->plen, &t, &r) == 0)
		(*s->by)[t][r] += value;
	return 0;
}

static ctr_sum_t sum_prefix(idn_store_t *st, const char *prefix, idn_acct_counts_t *by)
{
	ctr_sum_t s = { 0, 0, by, strlen(prefix) };
	idn_store_foreach_counter(st, prefix, s.plen, on_counter, &s);
	return s;
}

static int on_exact(void *arg, idn_bytes_t name, uint64_t value)
{
	ctr_sum_t *s = arg;
	if (name.len == s->plen)
		s->sum = value;
	return 0;
}

/* One counter by name ("ids", not "ids:<PREFIX>" too). */
static uint64_t counter(idn_store_t *st, const char *name)
{
	ctr_sum_t s = { 0, 0, NULL, strlen(name) };
	idn_store_foreach_counter(st, name, s.plen, on_exact, &s);
	return s.sum;
}

static uint64_t counts_sum(const idn_acct_counts_t c)
{
	uint64_t n = 0;
	for (int t = 0; t < IDN_ACCT_T; t++)
		for (int r = 0; r < IDN_ACCT_R; r++)
			n += c[t][r];
	return n;
}

/* ---- life cycle ---- */

int idn_acct_init(idn_acct_t *a, idn_store_t *store, idn_registry_t *reg, const idn_pkey_t *key,
		  const char *node_prefix, int utc_offset_minutes, int64_t now)
{
	memset(a, 0, sizeof(*a));
	a->store = store;
	a->reg = reg;
	a->key = key;
	snprintf(a->node_prefix, sizeof(a->node_prefix), "%s", node_prefix);
	snprintf(a->version, sizeof(a->version), "0.1.0");
	a->utc_offset = utc_offset_minutes;
	a->started = now;
	a->last_flush = now;
	a->day = idn_local_day(now, utc_offset_minutes);
	a->report_day = INT64_MIN;
	if (pthread_mutex_init(&a->mu, NULL) != 0)
		return IDN_ENOMEM;
	/* What earlier runs stored: totals, and today's so far (a restart
	 * during the day carries on with it). */
	sum_prefix(store, "restotal:", &a->base_total);
	char p[32], d[9];
	idn_day_compact(a->day, d);
	snprintf(p, sizeof(p), "res:%s:", d);
	sum_prefix(store, p, &a->day_base);
	/* Yesterday's report, when it was not queued then (down at midnight). */
	idn_day_compact(a->day - 1, d);
	snprintf(p, sizeof(p), "volrep:%s", d);
	if (counter(store, p) == 0) {
		char q[32];
		snprintf(q, sizeof(q), "res:%s:", d);
		snprintf(p, sizeof(p), "regday:%s", d);
		if (sum_prefix(store, q, NULL).sum || counter(store, p)) {
			a->report_day = a->day - 1;
			a->report_at = now + REPORT_DELAY;
		}
	}
	return IDN_OK;
}

void idn_acct_collect(idn_acct_t *a, idn_acct_counts_t cur)
{
	memset(cur, 0, sizeof(idn_acct_counts_t));
	if (a->srv) {
		idn_query_stats_t q;
		idn_server_stats(a->srv, &q);
		memcpy(cur[IDN_TR_UDP], q.res[IDN_TR_UDP], sizeof(cur[0]));
		memcpy(cur[IDN_TR_TCP], q.res[IDN_TR_TCP], sizeof(cur[0]));
	}
	if (a->http)
		idn_http_resolution_stats(a->http, cur[IDN_TR_HTTP]);
}

int idn_acct_flush_at(idn_acct_t *a, idn_acct_counts_t cur, int64_t now)
{
	enum { MAXD = 2 * IDN_ACCT_T * IDN_ACCT_R };
	char names[MAXD][48];
	idn_counter_delta_t d[MAXD];
	size_t n = 0;
	pthread_mutex_lock(&a->mu);
	char day[9];
	idn_day_compact(a->day, day);
	for (int t = 0; t < IDN_ACCT_T; t++)
		for (int r = 0; r < IDN_ACCT_R; r++) {
			/* Counts only grow; a smaller one (never expected) is a reset. */
			uint64_t delta = cur[t][r] >= a->flushed[t][r] ? cur[t][r] - a->flushed[t][r] : 0;
			if (!delta)
				continue;
			const char *tn = idn_transport_name(t), *rn = idn_res_result_name(r);
			snprintf(names[n], sizeof(names[n]), "res:%s:%s:%s", day, tn, rn);
			d[n] = (idn_counter_delta_t){ names[n], (int64_t)delta };
			n++;
			snprintf(names[n], sizeof(names[n]), "restotal:%s:%s", tn, rn);
			d[n] = (idn_counter_delta_t){ names[n], (int64_t)delta };
			n++;
		}
	int ret = n ? idn_registry_add_counters(a->reg, d, n) : IDN_OK;
	if (ret == IDN_OK)
		memcpy(a->flushed, cur, sizeof(a->flushed));
	else
		a->flush_errors++;
	a->flushes++;
	a->last_flush = now;
	int64_t nd = idn_local_day(now, a->utc_offset);
	if (nd != a->day) {
		if (nd > a->day) {
			a->report_day = a->day;
			a->report_at = now + REPORT_DELAY;
		}
		a->day = nd;
		memcpy(a->day_from, cur, sizeof(a->day_from));
		memset(a->day_base, 0, sizeof(a->day_base));
	}
	pthread_mutex_unlock(&a->mu);
	return ret;
}

/* ---- the daily report to the top ---- */

typedef struct {
	size_t n;
} ent_count_t;

int idn_acct_report_of(idn_acct_t *a, int64_t day, idn_volreport_t *v)
{
	memset(v, 0, sizeof(*v));
	char d[9], p[32];
	idn_day_compact(day, d);
	snprintf(v->node, sizeof(v->node), "%s", a->node_prefix);
	idn_day_iso(day, v->date);
	snprintf(p, sizeof(p), "res:%s:", d);
	v->resolutions = sum_prefix(a->store, p, NULL).sum;
	snprintf(p, sizeof(p), "regday:%s", d);
	v->registrations = counter(a->store, p);
	v->identifiers = counter(a->store, "ids");
	snprintf(p, sizeof(p), "entyear:%.4s:", d);
	v->enterprises = sum_prefix(a->store, p, NULL).n;
	v->version = IDN_VOLUME_VERSION;
	return IDN_OK;
}

/* The OC 102 (OVRW) body for the top: value 500 IDNODE_VOLUME on
 * 0.NA/<node-prefix>, admin read/write only. malloc'd. */
static uint8_t *report_body(idn_acct_t *a, const char *data, size_t dlen, size_t *len)
{
	char h[80];
	int hl = snprintf(h, sizeof(h), "0.NA/%s", a->node_prefix);
	size_t cap = dlen + (size_t)hl + 256;
	uint8_t *vbuf = malloc(dlen + 128), *body = malloc(cap);
	if (!vbuf || !body) {
		free(vbuf);
		free(body);
		return NULL;
	}
	idn_wire_t vw, w;
	idn_wire_init(&vw, vbuf, dlen + 128);
	idn_value_t v = {
		.index = IDN_VOLUME_INDEX, .timestamp = (uint32_t)time(NULL),
		.ttl_type = IDN_TTL_RELATIVE, .ttl = 86400,
		.perms = IDN_PERM_ADMIN_READ | IDN_PERM_ADMIN_WRITE,
		.type = { (const uint8_t *)IDN_VOLUME_TYPE, (uint32_t)strlen(IDN_VOLUME_TYPE) },
		.data = { (const uint8_t *)data, (uint32_t)dlen },
	};
	idn_value_encode(&vw, &v);
	idn_wire_init(&w, body, cap);
	idn_values_req_encode(&w, (idn_bytes_t){ (const uint8_t *)h, (uint32_t)hl }, 1,
			      (idn_bytes_t){ vbuf, (uint32_t)idn_wire_offset(&vw) });
	free(vbuf);
	if (vw.err || w.err) {
		free(body);
		return NULL;
	}
	*len = idn_wire_offset(&w);
	return body;
}

static void send_report(idn_acct_t *a, int64_t day, bool mark_sent)
{
	idn_volreport_t v;
	idn_acct_report_of(a, day, &v);
	char *data = NULL;
	size_t dlen = 0;
	int ret = idn_volreport_build(&v, a->key, &data, &dlen);
	if (ret) {
		idn_log(3, "volume report %s: %s", v.date, idn_strerror(ret));
		return;
	}
	size_t blen = 0;
	uint8_t *body = report_body(a, data, dlen, &blen);
	if (!body) {
		idn_log(3, "volume report %s: out of memory", v.date);
		free(data);
		return;
	}
	/* Through the outbox (a durable commit, then the sender delivers it);
	 * OVRW makes a repeat harmless. No upstream configured: nothing to do. */
	ret = idn_registry_upstream(a->reg, IDN_OC_ADD_VALUE, IDN_OF_OVRW, body, blen);
	if (ret != IDN_OK && ret != IDN_EINVAL) {
		idn_log(4, "volume report %s: not queued (%s); retrying in a minute", v.date,
			idn_strerror(ret));
		pthread_mutex_lock(&a->mu);
		if (a->report_day == INT64_MIN) {
			a->report_day = day;
			a->report_at = (int64_t)time(NULL) + 60;
		}
		pthread_mutex_unlock(&a->mu);
		free(body);
		free(data);
		return;
	}
	idn_log(ret == IDN_OK ? 5 : 6,
		"volume report %s: %llu resolutions, %llu registrations, %llu identifiers, "
		"%llu enterprises%s",
		v.date, (unsigned long long)v.resolutions, (unsigned long long)v.registrations,
		(unsigned long long)v.identifiers, (unsigned long long)v.enterprises,
		ret == IDN_OK ? ", queued for the top" : " (no upstream: not sent)");
	if (mark_sent) {
		char d[9], name[32];
		idn_day_compact(day, d);
		snprintf(name, sizeof(name), "volrep:%s", d);
		idn_counter_delta_t mark = { name, 1 };
		idn_registry_add_counters(a->reg, &mark, 1);
	}
	free(body);
	free(data);
}

/* ---- the loop ---- */

void idn_acct_tick(idn_acct_t *a, int64_t now)
{
	idn_acct_counts_t cur;
	idn_acct_collect(a, cur);
	idn_acct_flush_at(a, cur, now);
	pthread_mutex_lock(&a->mu);
	int64_t due = a->report_day != INT64_MIN && now >= a->report_at ? a->report_day : INT64_MIN;
	if (due != INT64_MIN)
		a->report_day = INT64_MIN;
	int64_t today = INT64_MIN;
	if (a->report_now_at && now >= a->report_now_at) {
		a->report_now_at = 0;
		today = a->day;
	}
	pthread_mutex_unlock(&a->mu);
	if (due != INT64_MIN)
		send_report(a, due, true);
	if (today != INT64_MIN)
		send_report(a, today, false);
}

void idn_acct_request_report(idn_acct_t *a, int64_t now)
{
	pthread_mutex_lock(&a->mu);
	/* One more flush first, so the counts of the last second are in. */
	a->report_now_at = now + 1;
	pthread_mutex_unlock(&a->mu);
	idn_log(5, "received SIGUSR1: queueing today's volume report so far");
}

/* Fire a few milliseconds after each whole second: midnight is one. */
static void arm(idn_acct_t *a)
{
	struct timeval now, tv;
	gettimeofday(&now, NULL);
	long us = 1000000 - (long)now.tv_usec + 2000;
	tv.tv_sec = us / 1000000;
	tv.tv_usec = us % 1000000;
	event_add(a->tick, &tv);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	idn_acct_t *a = arg;
	idn_acct_tick(a, (int64_t)time(NULL));
	arm(a);
}

int idn_acct_attach(idn_acct_t *a, struct event_base *base)
{
	a->tick = evtimer_new(base, on_tick, a);
	if (!a->tick)
		return -1;
	arm(a);
	return 0;
}

void idn_acct_final(idn_acct_t *a)
{
	idn_acct_counts_t cur;
	idn_acct_collect(a, cur);
	if (idn_acct_flush_at(a, cur, (int64_t)time(NULL)) != IDN_OK)
		idn_log(3, "volume accounting: the last resolution counts were not stored");
}

void idn_acct_deinit(idn_acct_t *a)
{
	/* The mutex stays: HTTP threads may read the figures until they stop. */
	if (a->tick)
		event_free(a->tick);
	a->tick = NULL;
}

/* ---- figures ---- */

uint64_t idn_acct_today(idn_acct_t *a)
{
	idn_acct_counts_t cur;
	idn_acct_collect(a, cur);
	pthread_mutex_lock(&a->mu);
	uint64_t n = counts_sum(a->day_base);
	for (int t = 0; t < IDN_ACCT_T; t++)
		for (int r = 0; r < IDN_ACCT_R; r++)
			n += cur[t][r] >= a->day_from[t][r] ? cur[t][r] - a->day_from[t][r] : 0;
	pthread_mutex_unlock(&a->mu);
	return n;
}

void idn_acct_metrics(void *arg, struct idn_metrics *m)
{
	idn_acct_t *a = arg;
	memset(m, 0, sizeof(*m));
	snprintf(m->node, sizeof(m->node), "%s", a->node_prefix);
	snprintf(m->version, sizeof(m->version), "%s", a->version);
	m->now = (int64_t)time(NULL);
	m->started = a->started;
	idn_acct_counts_t cur;
	idn_acct_collect(a, cur);
	pthread_mutex_lock(&a->mu);
	for (int t = 0; t < IDN_ACCT_T; t++)
		for (int r = 0; r < IDN_ACCT_R; r++)
			m->resolutions[t][r] = a->base_total[t][r] + cur[t][r];
	m->flushes = a->flushes;
	m->flush_errors = a->flush_errors;
	m->last_flush = a->last_flush;
	pthread_mutex_unlock(&a->mu);
	m->resolutions_today = idn_acct_today(a);

	char d[9], p[32];
	idn_day_compact(idn_local_day(m->now, a->utc_offset), d);
	snprintf(p, sizeof(p), "regday:%s", d);
	m->registrations_today = counter(a->store, p);
	snprintf(p, sizeof(p), "regday:%.4s", d);
	m->registrations_year = sum_prefix(a->store, p, NULL).sum;
	m->registrations_total = sum_prefix(a->store, "regday:", NULL).sum;
	snprintf(p, sizeof(p), "entyear:%.4s:", d);
	m->enterprises_year = sum_prefix(a->store, p, NULL).n;
	m->identifiers = counter(a->store, "ids");
	m->enterprise_prefixes = counter(a->store, "prefixes");
	idn_store_stat_t sst = { 0 };
	if (idn_store_stat(a->store, &sst) == IDN_OK)
		m->store_handles = sst.handles;

	idn_registry_stats_t rs;
	idn_registry_stats(a->reg, &rs);
	m->commits = rs.commits;
	m->queue = rs.queued;
	m->writes_ok = rs.writes_ok;
	m->writes_refused = rs.writes_refused;
	m->auth_ok = rs.auth_ok;
	m->auth_failed = rs.auth_failed;
	if (a->srv) {
		idn_query_stats_t q;
		idn_server_stats(a->srv, &q);
		m->requests = q.requests;
		m->malformed = q.malformed;
		m->tcp_connections = idn_server_tcp_conns(a->srv);
		m->rate_limited_udp_dropped = q.rate_limited_udp_dropped;
		m->rate_limited_answered = q.rate_limited_answered;
		m->udp_answers_capped = q.udp_answers_capped;
		m->tcp_refused_per_address = q.tcp_refused_per_address;
		m->tcp_refused_total = q.tcp_refused_total;
		m->tcp_slow_closed = q.tcp_slow_closed;
		m->oversized_requests = q.oversized_requests;
	}
	if (a->http) {
		idn_query_stats_t hq;
		idn_http_stats(a->http, &hq);
		m->rate_limited_answered += hq.rate_limited_answered;
	}
	idn_outbox_stats_t ob;
	memset(&ob, 0, sizeof(ob));
	idn_registry_outbox_stats(a->reg, &ob);
	m->outbox_known = true;
	m->outbox_length = ob.length;
	m->outbox_oldest_age = ob.oldest_age;
}
