/* register.c - `idnode-bench register`: durable registrations per second from many logged-in, pipelined connections. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "client/admin.h"
#include "client/client.h"
#include "proto/msg.h"

#define RC_SLOTS 1024       /* response codes counted one by one below this */
#define REQ_CAP 2048
#define IO_TIMEOUT_MS 10000 /* a durable commit never takes this long on a sane disk */

typedef struct {
	const bench_opts_t *o;
	idn_auth_t auth;
	char run[16];
	atomic_ullong next;       /* next handle number */
	unsigned long long limit; /* handles to create; ULLONG_MAX in duration mode */
	double measure, end;      /* measurement window (duration mode) */
} reg_shared_t;

/* One connection: its own thread, because idn_client_t is blocking and
 * single-connection; 16 threads sleeping in poll() cost the generator's core
 * less than the requests they build. */
typedef struct {
	reg_shared_t *sh;
	unsigned id;
	pthread_t thr;
	bench_stats_t st;
	uint64_t rc[RC_SLOTS + 1]; /* rc[RC_SLOTS]: codes at or above RC_SLOTS */
	uint64_t transport_errors, mismatched;
	double first, last;       /* first send, last answer (count mode) */
	char err[160];
} reg_worker_t;

typedef struct {
	uint32_t rid;
	double sent;
} reg_slot_t;

static bool take(reg_shared_t *sh, unsigned long long *i)
{
	if (sh->limit != ~0ULL && atomic_load(&sh->next) >= sh->limit)
		return false;
	*i = atomic_fetch_add(&sh->next, 1);
	return *i < sh->limit;
}

/* Build and write one create request for handle number i. */
static int send_one(reg_worker_t *wk, idn_client_t *c, unsigned long long i, uint32_t rid,
		    uint32_t session)
{
	reg_shared_t *sh = wk->sh;
	char handle[512];
	uint8_t vals[1024], req[REQ_CAP];
	if (!bench_reg_handle(handle, sizeof(handle), sh->o->prefix, sh->run, i))
		return IDN_EINVAL;
	size_t vl = bench_reg_values(vals, sizeof(vals), handle, sh->auth.handle, sh->auth.index,
				     (uint32_t)time(NULL));
	if (!vl)
		return IDN_EINVAL;
	idn_wire_t w;
	idn_wire_init(&w, req, sizeof(req));
	idn_req_opts_t ro = { .request_id = rid, .session_id = session };
	int ret = idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, handle, BENCH_REG_VALUES,
				       (idn_bytes_t){ vals, (uint32_t)vl }, &ro);
	return ret ? ret : idn_client_write(c, req, idn_wire_offset(&w));
}

/* CNRI style: every create is challenged and answered (OC 200) on its own;
 * the connection carries one request at a time. */
static void challenge_loop(reg_worker_t *wk, idn_client_t *c)
{
	reg_shared_t *sh = wk->sh;
	const bench_opts_t *o = sh->o;
	unsigned long long i;
	wk->first = bench_now();
	while ((o->count_set || bench_now() < sh->end) && take(sh, &i)) {
		char handle[512];
		uint8_t vals[1024], req[REQ_CAP];
		if (!bench_reg_handle(handle, sizeof(handle), o->prefix, sh->run, i))
			break;
		size_t vl = bench_reg_values(vals, sizeof(vals), handle, sh->auth.handle,
					     sh->auth.index, (uint32_t)time(NULL));
		idn_wire_t w;
		idn_wire_init(&w, req, sizeof(req));
		idn_req_opts_t ro = { .request_id = idn_client_request_id(c) };
		if (!vl || idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, handle, BENCH_REG_VALUES,
						(idn_bytes_t){ vals, (uint32_t)vl }, &ro))
			break;
		double sent = bench_now();
		idn_msg_t m;
		int ret = idn_client_admin(c, &sh->auth, req, idn_wire_offset(&w), &m);
		double now = bench_now();
		if (ret) {
			wk->transport_errors++;
			snprintf(wk->err, sizeof(wk->err), "connection %u: %s", wk->id,
				 idn_strerror(ret));
			break;
		}
		uint32_t rc = m.hdr.rcode;
		if (o->count_set || (sent >= sh->measure && now <= sh->end)) {
			bench_stats_add(&wk->st, (now - sent) * 1e6, rc);
			wk->rc[rc < RC_SLOTS ? rc : RC_SLOTS]++;
			wk->last = now;
		}
	}
}

static void *worker_main(void *arg)
{
	reg_worker_t *wk = arg;
	reg_shared_t *sh = wk->sh;
	const bench_opts_t *o = sh->o;
	unsigned win = o->window;
	reg_slot_t *ring = calloc(win, sizeof(*ring));
	idn_client_t *c = NULL;
	uint32_t session = 0x10000 + wk->id, rcode = 0;
	int ret;
	if (!ring) {
		snprintf(wk->err, sizeof(wk->err), "out of memory");
		return NULL;
	}
	if (o->challenge) {
		if ((ret = idn_client_open(o->server, IDN_CLIENT_TCP, IO_TIMEOUT_MS, &c))) {
			snprintf(wk->err, sizeof(wk->err), "connection %u: %s", wk->id,
				 idn_strerror(ret));
			goto out;
		}
		challenge_loop(wk, c);
		goto out;
	}
	if ((ret = idn_client_open(o->server, IDN_CLIENT_TCP, IO_TIMEOUT_MS, &c)) ||
	    (ret = idn_client_login_rc(c, &sh->auth, session, &rcode, NULL, 0))) {
		snprintf(wk->err, sizeof(wk->err), "connection %u: login failed: %s (RC %u)",
			 wk->id, idn_strerror(ret), rcode);
		goto out;
	}
	unsigned head = 0, inflight = 0;
	uint32_t rid = (wk->id + 1) << 20;
	unsigned long long i;
	double now = bench_now();
	wk->first = now;
	while (inflight < win && take(sh, &i)) {
		reg_slot_t *s = &ring[(head + inflight) % win];
		s->rid = ++rid & 0x7fffffff;
		s->sent = bench_now();
		if ((ret = send_one(wk, c, i, s->rid, session)))
			goto io_error;
		inflight++;
	}
	/* Closed loop: every answer frees a slot for the next create. */
	while (inflight > 0) {
		const uint8_t *resp;
		size_t len;
		if ((ret = idn_client_read(c, IO_TIMEOUT_MS, &resp, &len)))
			goto io_error;
		now = bench_now();
		if (len < IDN_ENVELOPE_LEN + 8)
			continue;
		uint32_t got = idn_get_be32(resp + 8), rc = idn_get_be32(resp + 24);
		reg_slot_t *s = &ring[head];
		if (got != s->rid) {
			wk->mismatched++; /* not an answer to the oldest request */
			continue;
		}
		bool counted = o->count_set || (s->sent >= sh->measure && now <= sh->end);
		if (counted) {
			bench_stats_add(&wk->st, (now - s->sent) * 1e6, rc);
			wk->rc[rc < RC_SLOTS ? rc : RC_SLOTS]++;
			wk->last = now;
		}
		head = (head + 1) % win;
		inflight--;
		if ((o->count_set || now < sh->end) && take(sh, &i)) {
			s = &ring[(head + inflight) % win];
			s->rid = ++rid & 0x7fffffff;
			s->sent = now;
			if ((ret = send_one(wk, c, i, s->rid, session)))
				goto io_error;
			inflight++;
		}
	}
	goto out;
io_error:
	wk->transport_errors++;
	snprintf(wk->err, sizeof(wk->err), "connection %u: %s", wk->id, idn_strerror(ret));
out:
	idn_client_close(c);
	free(ring);
	return NULL;
}

static void print_result(const reg_shared_t *sh, reg_worker_t *wk, unsigned n, double secs)
{
	const bench_opts_t *o = sh->o;
	bench_stats_t *all = &wk[0].st;
	uint64_t rc[RC_SLOTS + 1] = { 0 }, terr = 0, mism = 0;
	for (unsigned k = 0; k < n; k++) {
		if (k > 0) {
			for (size_t b = 0; b <= BENCH_HIST; b++)
				all->hist[b] += wk[k].st.hist[b];
			all->replies += wk[k].st.replies;
			all->ok += wk[k].st.ok;
		}
		for (size_t r = 0; r <= RC_SLOTS; r++)
			rc[r] += wk[k].rc[r];
		terr += wk[k].transport_errors;
		mism += wk[k].mismatched;
	}
	double rate = secs > 0 ? (double)all->ok / secs : 0;
	double p50 = bench_stats_pct(all, 50), p99 = bench_stats_pct(all, 99),
	       p999 = bench_stats_pct(all, 99.9);
	char errs[1024];
	size_t el = 0;
	errs[0] = 0;
	for (size_t r = 0; r <= RC_SLOTS && el < sizeof(errs) - 64; r++) {
		if (r == IDN_RC_SUCCESS || !rc[r])
			continue;
		el += (size_t)snprintf(errs + el, sizeof(errs) - el,
				       o->json ? "%s\"%s%zu\":%llu" : "%s RC %s%zu: %llu",
				       el ? (o->json ? "," : ";") : "", r == RC_SLOTS ? ">=" : "", r,
				       (unsigned long long)rc[r]);
	}
	if (o->json) {
		printf("{\"mode\":\"register\",\"registrations_per_second\":%.0f,\"ok\":%llu,"
		       "\"answers\":%llu,\"seconds\":%.3f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
		       "\"p999_us\":%.1f,\"conns\":%u,\"window\":%u,\"run_id\":\"%s\","
		       "\"transport_errors\":%llu,\"mismatched\":%llu,\"errors\":{%s}}\n",
		       rate, (unsigned long long)all->ok, (unsigned long long)all->replies, secs, p50,
		       p99, p999, o->conns, o->window, sh->run, (unsigned long long)terr,
		       (unsigned long long)mism, errs);
	} else {
		printf("register: %.0f registrations/s over %.1f s (%llu created, %llu answers, "
		       "%u conns x %u in flight, run %s); latency p50 %.0f us, p99 %.0f us, "
		       "p99.9 %.0f us; errors:%s%s; %llu transport errors\n",
		       rate, secs, (unsigned long long)all->ok, (unsigned long long)all->replies,
		       o->conns, o->window, sh->run, p50, p99, p999, el ? "" : " none", errs,
		       (unsigned long long)terr);
	}
	fflush(stdout);
}

int bench_register(const bench_opts_t *o)
{
	if (!o->auth || !o->key) {
		fprintf(stderr, "idnode-bench register: --auth and --key are required\n");
		return 2;
	}
	reg_shared_t sh = { .o = o, .limit = o->count_set ? o->count : ~0ULL };
	int ret = idn_auth_parse_id(&sh.auth, o->auth);
	if (!ret)
		ret = idn_auth_load_key(&sh.auth, o->key);
	if (ret) {
		fprintf(stderr, "idnode-bench register: %s / %s: %s\n", o->auth, o->key,
			idn_strerror(ret));
		idn_auth_free(&sh.auth);
		return 2;
	}
	if (o->run_id)
		snprintf(sh.run, sizeof(sh.run), "%.15s", o->run_id);
	else
		bench_run_id(sh.run);
	reg_worker_t *wk = calloc(o->conns, sizeof(*wk));
	if (!wk)
		return 1;
	double t0 = bench_now();
	/* Duration mode: logins and the first fsyncs fall in the warm-up. */
	sh.measure = t0 + o->warmup;
	sh.end = sh.measure + o->duration;
	unsigned started = 0;
	int rc = 0;
	for (; started < o->conns; started++) {
		wk[started].sh = &sh;
		wk[started].id = started;
		if (bench_stats_init(&wk[started].st) ||
		    pthread_create(&wk[started].thr, NULL, worker_main, &wk[started])) {
			bench_stats_free(&wk[started].st);
			fprintf(stderr, "idnode-bench register: cannot start connection %u\n", started);
			rc = 1;
			break;
		}
	}
	double first = 1e300, last = 0;
	for (unsigned k = 0; k < started; k++) {
		pthread_join(wk[k].thr, NULL);
		if (wk[k].err[0]) {
			fprintf(stderr, "idnode-bench register: %s\n", wk[k].err);
			rc = 1;
		}
		if (wk[k].first > 0 && wk[k].first < first)
			first = wk[k].first;
		if (wk[k].last > last)
			last = wk[k].last;
	}
	if (started > 0) {
		double secs = o->count_set ? (last > first ? last - first : 0) : o->duration;
		print_result(&sh, wk, started, secs);
		if (!wk[0].st.ok)
			rc = 1;
	}
	for (unsigned k = 0; k < started; k++)
		bench_stats_free(&wk[k].st);
	free(wk);
	idn_auth_free(&sh.auth);
	return rc;
}
