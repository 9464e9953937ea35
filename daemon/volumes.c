/* volumes.c - the node's volumes for its pages, from the listeners' counters and the registry's store counters. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/volumes.h"

#define TICK_SECONDS 10

static void day_of(int64_t now, int utc_offset, char out[9])
{
	time_t t = (time_t)(now + (int64_t)utc_offset * 60);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, 9, "%04u%02u%02u", (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u);
}

static uint64_t total_resolutions(idn_volumes_src_t *v)
{
	idn_query_stats_t q;
	uint64_t n = 0;
	if (v->srv) {
		idn_server_stats(v->srv, &q);
		n += q.resolutions;
	}
	if (v->http) {
		idn_http_stats(v->http, &q);
		n += q.resolutions;
	}
	return n;
}

/* Resolutions today: the total minus what it was when the day began. The
 * ticker looks every TICK_SECONDS, so a boundary is placed at most that
 * late (those requests count for the new day). */
static uint64_t observe(idn_volumes_src_t *v, int64_t now, uint64_t total, char today[9])
{
	day_of(now, v->utc_offset, today);
	pthread_mutex_lock(&v->mu);
	if (strcmp(today, v->day) != 0) {
		memcpy(v->day, today, 9);
		v->day_base = total;
	}
	uint64_t n = total >= v->day_base ? total - v->day_base : 0;
	pthread_mutex_unlock(&v->mu);
	return n;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	idn_volumes_src_t *v = arg;
	char today[9];
	observe(v, (int64_t)time(NULL), total_resolutions(v), today);
}

void idn_volumes_init(idn_volumes_src_t *v, idn_store_t *store, idn_server_t *srv,
		      const char *node_prefix, const char *site_address, int utc_offset_minutes)
{
	memset(v, 0, sizeof(*v));
	v->store = store;
	v->srv = srv;
	snprintf(v->node_prefix, sizeof(v->node_prefix), "%s", node_prefix);
	snprintf(v->site_address, sizeof(v->site_address), "%s", site_address);
	v->utc_offset = utc_offset_minutes;
	v->started = (int64_t)time(NULL);
	pthread_mutex_init(&v->mu, NULL);
	day_of(v->started, v->utc_offset, v->day);
}

int idn_volumes_attach(idn_volumes_src_t *v, struct event_base *base)
{
	struct timeval tv = { TICK_SECONDS, 0 };
	v->tick = event_new(base, -1, EV_PERSIST, on_tick, v);
	if (!v->tick || event_add(v->tick, &tv) != 0)
		return -1;
	return 0;
}

void idn_volumes_deinit(idn_volumes_src_t *v)
{
	/* Only the ticker: HTTP threads may still read the figures until they
	 * are stopped, so the mutex stays (the source lives as long as the
	 * process). */
	if (v->tick)
		event_free(v->tick);
	v->tick = NULL;
}

typedef struct {
	const char *today;
	uint64_t day, year;
} reg_sum_t;

static int sum_regday(void *arg, idn_bytes_t name, uint64_t value)
{
	reg_sum_t *s = arg;
	s->year += value;
	/* "regday:" + YYYYMMDD */
	if (name.len == 15 && memcmp(name.p + 7, s->today, 8) == 0)
		s->day = value;
	return 0;
}

typedef struct {
	uint8_t ent[72];          /* "0.NA/<NODE-PREFIX>." folded */
	size_t ent_len;
	uint64_t all, enterprises;
} na_count_t;

static int count_na(void *arg, idn_bytes_t key)
{
	na_count_t *c = arg;
	c->all++;
	if (c->ent_len && key.len > c->ent_len && memcmp(key.p, c->ent, c->ent_len) == 0)
		c->enterprises++;
	return 0;
}

void idn_volumes_fill(void *arg, idn_volumes_t *out)
{
	idn_volumes_src_t *v = arg;
	memset(out, 0, sizeof(*out));
	snprintf(out->node_prefix, sizeof(out->node_prefix), "%s", v->node_prefix);
	snprintf(out->site_address, sizeof(out->site_address), "%s", v->site_address);
	out->started = v->started;
	out->now = (int64_t)time(NULL);
	out->utc_offset = v->utc_offset;
	out->resolutions = total_resolutions(v);
	out->resolutions_today = observe(v, out->now, out->resolutions, out->today);
	if (v->today) {
		out->resolutions_today = v->today(v->today_arg);
		out->today_persisted = true;
	}

	char name[24];
	reg_sum_t rs = { .today = out->today };
	int n = snprintf(name, sizeof(name), "regday:%.4s", out->today);
	idn_store_foreach_counter(v->store, name, (size_t)n, sum_regday, &rs);
	out->registrations_today = rs.day;
	out->registrations_year = rs.year;

	/* Enterprises are the prefix handles under the node's prefix, however
	 * they came in (registry, demo, import); the identifiers are every
	 * other handle. A few thousand keys: cheap enough per page view. */
	na_count_t nc = { .ent_len = 0 };
	int el = snprintf((char *)nc.ent, sizeof(nc.ent), "0.NA/%s.", v->node_prefix);
	if (el > 0 && (size_t)el < sizeof(nc.ent)) {
		nc.ent_len = (size_t)el;
		idn_handle_fold(nc.ent, nc.ent_len, nc.ent);
	}
	idn_reader_t *r = NULL;
	if (idn_reader_new(v->store, &r) == IDN_OK) {
		if (idn_reader_begin(r) == IDN_OK) {
			idn_reader_list(r, (const uint8_t *)"0.NA", 4, NULL, 0, count_na, &nc);
			idn_reader_end(r);
		}
		idn_reader_free(r);
	}
	idn_store_stat_t st = { 0 };
	idn_store_stat(v->store, &st);
	out->enterprises = nc.enterprises;
	out->identifiers = st.handles >= nc.all ? st.handles - nc.all : 0;
}
