/* recurse_run.c - the recursor's life: options, its thread and event loop, the submit queue from the workers, stop. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/thread.h>

#include "resolver/recurse_int.h"

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct idn_recursor *r = arg;
	pthread_mutex_lock(&r->mu);
	idn_job_t **q = r->queue;
	size_t n = r->q_len;
	r->queue = NULL;
	r->q_len = r->q_cap = 0;
	pthread_mutex_unlock(&r->mu);
	for (size_t i = 0; i < n; i++)
		rjob_begin(r, q[i]);
	free(q);
}

/* Any worker thread. */
static void rq_submit(void *ctx, idn_job_t *job)
{
	struct idn_recursor *r = ctx;
	rx_count(r, S_JOBS);
	unsigned n = atomic_fetch_add_explicit(&r->inflight, 1, memory_order_relaxed);
	bool queued = false;
	if (n < r->o.max_inflight) {
		pthread_mutex_lock(&r->mu);
		if (r->q_len == r->q_cap) {
			size_t cap = r->q_cap ? r->q_cap * 2 : 64;
			idn_job_t **p = realloc(r->queue, cap * sizeof(*p));
			if (p) {
				r->queue = p;
				r->q_cap = cap;
			}
		}
		if (r->q_len < r->q_cap) {
			r->queue[r->q_len++] = job;
			queued = true;
		}
		pthread_mutex_unlock(&r->mu);
	}
	if (!queued) {
		/* Over the bound: refuse now rather than queue without limit. */
		atomic_fetch_sub_explicit(&r->inflight, 1, memory_order_relaxed);
		rx_count(r, S_BUSY);
		job_answer(job, IDN_RC_SERVER_TOO_BUSY, (idn_bytes_t){ 0 }, NULL, 0,
			   "Too many recursive resolutions in progress");
		return;
	}
	event_active(r->wake, EV_READ, 0);
}

void idn_recursor_dispatch(idn_recursor_t *r, idn_dispatch_t *d)
{
	memset(d, 0, sizeof(*d));
	d->ctx = r;
	d->submit = rq_submit;
}

int idn_recursor_new(const idn_recursor_opts_t *o, idn_recursor_t **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, (void (*)(void))evthread_use_pthreads);
	if (!o->cache || !o->store || !o->info)
		return IDN_EINVAL;
	struct idn_recursor *r = calloc(1, sizeof(*r));
	if (!r)
		return IDN_ENOMEM;
	if (pthread_mutex_init(&r->mu, NULL) != 0) {
		free(r);
		return IDN_ENOMEM;
	}
	r->o = *o;
	r->udp4 = r->udp6 = -1;
	if (r->o.timeout_ms <= 0)
		r->o.timeout_ms = 3000;
	if (!r->o.max_ttl)
		r->o.max_ttl = 86400;
	if (!r->o.max_inflight)
		r->o.max_inflight = 10000;
	r->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)r;
	if (!r->rng)
		r->rng = 88172645463325252ull;
	int ret = rx_parse_upstream(r, o->upstream);
	if (ret)
		goto fail;
	ret = IDN_ENOMEM;
	r->base = event_base_new();
	r->lbuf = malloc(IDN_ENVELOPE_LEN + IDN_MAX_MESSAGE_LEN);
	if (!r->base || !r->lbuf)
		goto fail;
	r->wake = event_new(r->base, -1, 0, on_wake, r);
	if (!r->wake)
		goto fail;
	if ((ret = idn_reader_new(o->store, &r->reader)) != IDN_OK)
		goto fail;
	idn_query_init(&r->lq, r->reader, o->info, IDN_TR_TCP);
	if ((ret = net_setup(r)) != IDN_OK)
		goto fail;
	if ((ret = dns_setup(r)) != IDN_OK)
		goto fail;
	*out = r;
	return IDN_OK;
fail:
	idn_recursor_free(r);
	return ret;
}

static void *run(void *arg)
{
	struct idn_recursor *r = arg;
	event_base_dispatch(r->base);
	return NULL;
}

int idn_recursor_start(idn_recursor_t *r)
{
	int rc = pthread_create(&r->thread, NULL, run, r);
	if (rc)
		return -rc;
	r->started = true;
	return IDN_OK;
}

void idn_recursor_stop(idn_recursor_t *r)
{
	if (!r || !r->started)
		return;
	event_base_loopexit(r->base, NULL);
	pthread_join(r->thread, NULL);
	r->started = false;
	/* Every job held gets its answer, so no listener waits on us. */
	on_wake(-1, 0, r);
	while (r->jobs) {
		rjob_t *j = r->jobs;
		tx_cancel(&j->tx);
		job_answer(j->job, IDN_RC_ERROR, j->req.handle, NULL, 0, "Server stopping");
		j->job = NULL;
		/* rjob_free without touching the job again */
		r->jobs = j->next;
		if (r->jobs)
			r->jobs->prev = NULL;
		if (j->tx.timer)
			event_free(j->tx.timer);
		if (j->deadline)
			event_free(j->deadline);
		free(j);
		atomic_fetch_sub_explicit(&r->inflight, 1, memory_order_relaxed);
	}
}

void idn_recursor_free(idn_recursor_t *r)
{
	if (!r)
		return;
	idn_recursor_stop(r);
	net_teardown(r);
	dns_teardown(r);
	if (r->wake)
		event_free(r->wake);
	if (r->base)
		event_base_free(r->base);
	idn_reader_free(r->reader);
	free(r->lbuf);
	free(r->queue);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

void idn_recursor_stats(idn_recursor_t *r, idn_recursor_stats_t *st)
{
	uint64_t *v = (uint64_t *)st;
	for (int i = 0; i < 7; i++)
		v[i] = atomic_load_explicit(&r->st[i], memory_order_relaxed);
}
