/* tcp_jobs.c - TCP answers in request order: slots for pending answers, jobs for the dispatch table, completions from any thread. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/respond.h"
#include "resolver/tcp_conn.h"

static void slot_push(conn_t *c, slot_t *s)
{
	s->next = NULL;
	if (c->slot_tail)
		c->slot_tail->next = s;
	else
		c->slot_head = s;
	c->slot_tail = s;
	c->slot_bytes += s->cost;
}

static void slot_free(slot_t *s)
{
	if (s->job) {
		free(s->job->job.resp);
		free(s->job);
	} else {
		free(s);
	}
}

bool slots_hold_tail(conn_t *c, size_t n, bool close)
{
	/* The common case: nothing pending, the answer stays in place. */
	if (!c->slot_head || (n == 0 && !close))
		return true;
	slot_t *s = malloc(sizeof(*s) + n);
	if (!s) {
		/* This answer is lost, so nothing after it may be sent: close
		 * once the earlier answers are out. */
		c->out_len -= n;
		c->closing = true;
		return false;
	}
	memset(s, 0, sizeof(*s));
	uint8_t *d = (uint8_t *)(s + 1);
	memcpy(d, c->out + c->out_len - n, n);
	c->out_len -= n;
	s->data = d;
	s->len = n;
	s->cost = sizeof(*s) + n;
	s->ready = true;
	s->close = close;
	slot_push(c, s);
	return true;
}

size_t conn_put_error(conn_t *c, const idn_msg_t *req, const idn_resp_ctx_t *ctx, uint32_t rcode,
		      const char *text)
{
	if (!conn_out_reserve(c, 4096))
		return 0;
	idn_wire_t o;
	idn_wire_init(&o, c->out + c->out_len, c->out_cap - c->out_len);
	if (idn_resp_error(&o, req, ctx, rcode, text) != IDN_OK)
		return 0;
	size_t n = idn_wire_offset(&o);
	c->out_len += n;
	return n;
}

void slots_drain(conn_t *c)
{
	slot_t *s;
	while ((s = c->slot_head) && s->ready) {
		bool ok;
		if (s->len) {
			ok = conn_out_reserve(c, s->len);
			if (ok) {
				memcpy(c->out + c->out_len, s->data, s->len);
				c->out_len += s->len;
			}
		} else {
			/* A handler that gave no answer: the client must still get one
			 * (IDIS clients wait forever otherwise). */
			pending_t *p = s->job;
			ok = p && conn_put_error(c, &p->job.msg, &p->job.ctx, IDN_RC_ERROR,
						 "Internal server error") > 0;
		}
		c->slot_head = s->next;
		if (!c->slot_head)
			c->slot_tail = NULL;
		c->slot_bytes -= s->cost;
		bool close = s->close || !ok;
		slot_free(s);
		if (close) {
			/* Nothing after a closing answer is sent. */
			c->closing = true;
			slots_drop(c);
			return;
		}
	}
}

void slots_drop(conn_t *c)
{
	slot_t *next;
	for (slot_t *s = c->slot_head; s; s = next) {
		next = s->next;
		if (s->job && !s->ready)
			s->job->orphan = true; /* still with the handler: freed when it returns */
		else
			slot_free(s);
	}
	c->slot_head = c->slot_tail = NULL;
	c->slot_bytes = 0;
}

/* Any thread, possibly inside submit(): queue it for the worker's thread. */
static void job_done(idn_job_t *j)
{
	pending_t *p = (pending_t *)j;
	worker_t *w = j->owner;
	pthread_mutex_lock(&w->done_mu);
	p->done_next = NULL;
	if (w->done_tail)
		w->done_tail->done_next = p;
	else
		w->done_head = p;
	w->done_tail = p;
	/* Under the lock, so no wake-up races past jobs_set_stopped(). */
	if (!w->jobs_stopped)
		event_active(w->done_ev, EV_READ, 0);
	pthread_mutex_unlock(&w->done_mu);
}

pending_t *job_new(worker_t *w, const uint8_t *msg, size_t len, int transport)
{
	pending_t *p = malloc(sizeof(*p) + len);
	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	memcpy(p->req, msg, len);
	idn_job_t *j = &p->job;
	j->req = p->req;
	j->req_len = len;
	/* Decoded again so the job's message borrows its own copy; the query
	 * step decoded the same bytes, so this cannot fail. */
	if (idn_msg_decode(j->req, len, &j->msg) != IDN_OK) {
		free(p);
		return NULL;
	}
	j->transport = transport;
	j->reader = w->reader;
	idn_query_resp_ctx(&w->q, &j->ctx);
	j->done = job_done;
	j->owner = w;
	w->jobs_out++;
	return p;
}

void job_dispatch(worker_t *w, pending_t *p)
{
	const idn_dispatch_t *d = w->q.async_to ? w->q.async_to : w->q.dispatch;
	d->submit(d->ctx, &p->job);
}

bool job_submit(conn_t *c, const uint8_t *msg, size_t len)
{
	worker_t *w = c->w;
	pending_t *p = job_new(w, msg, len, IDN_TR_TCP);
	if (!p) {
		idn_resp_ctx_t ctx;
		idn_query_resp_ctx(&w->q, &ctx);
		size_t n = conn_put_error(c, &w->q.msg, &ctx, IDN_RC_SERVER_TOO_BUSY,
					  "Server out of memory");
		if (n == 0) {
			c->closing = true;
			return false;
		}
		return slots_hold_tail(c, n, false);
	}
	idn_job_t *j = &p->job;
	j->peer = c->peer;
	j->conn = &c->state;
	p->c = c;
	p->slot.job = p;
	p->slot.cost = sizeof(*p) + len;
	slot_push(c, &p->slot);
	c->outstanding++;
	job_dispatch(w, p);
	return true;
}

/* A job is back on the worker's thread; returns its connection when that
 * needs an update (NULL when it is gone). */
static conn_t *job_returned(pending_t *p, uint32_t now)
{
	conn_t *c = p->c;
	worker_t *w = p->job.owner;
	w->jobs_out--;
	/* Resolutions answered through the recursor count like the others. */
	if (now && p->job.msg.hdr.opcode == IDN_OC_RESOLUTION)
		idn_query_count_answer(&w->q, p->job.transport, p->job.resp, p->job.resp_len);
	if (!c) {
		/* UDP: answered now, unless the worker is being torn down. */
		if (now)
			udp_job_answer(w, p);
		free(p->job.resp);
		free(p);
		return NULL;
	}
	c->outstanding--;
	if (p->orphan) {
		free(p->job.resp);
		free(p);
		if (c->dead) {
			if (c->outstanding == 0)
				conn_free(c);
			return NULL;
		}
		return c;
	}
	p->slot.ready = true;
	p->slot.data = p->job.resp;
	p->slot.len = p->job.resp ? p->job.resp_len : 0;
	p->slot.close = p->job.close;
	c->last_active = now;
	return c;
}

static pending_t *take_done(worker_t *w)
{
	pthread_mutex_lock(&w->done_mu);
	pending_t *p = w->done_head;
	w->done_head = w->done_tail = NULL;
	pthread_mutex_unlock(&w->done_mu);
	return p;
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	worker_t *w = arg;
	w->q.now = (uint32_t)time(NULL);
	/* Mark every returned job first, then update each connection once, so
	 * a batch of answers goes out in one write. */
	conn_t *kick = NULL;
	pending_t *next;
	for (pending_t *p = take_done(w); p; p = next) {
		next = p->done_next;
		conn_t *c = job_returned(p, w->q.now);
		if (c && !c->kicked) {
			c->kicked = true;
			c->kick_next = kick;
			kick = c;
		}
	}
	while (kick) {
		conn_t *c = kick;
		kick = c->kick_next;
		c->kicked = false;
		conn_update(c);
	}
	worker_publish(w);
}

int jobs_setup(worker_t *w)
{
	if (pthread_mutex_init(&w->done_mu, NULL) != 0)
		return IDN_ENOMEM;
	w->done_mu_ok = true;
	w->done_ev = event_new(w->base, -1, 0, on_done, w);
	return w->done_ev ? IDN_OK : IDN_ENOMEM;
}

void jobs_set_stopped(worker_t *w, bool stopped)
{
	if (!w->done_mu_ok)
		return;
	pthread_mutex_lock(&w->done_mu);
	w->jobs_stopped = stopped;
	if (!stopped && w->done_head && w->done_ev)
		event_active(w->done_ev, EV_READ, 0);
	pthread_mutex_unlock(&w->done_mu);
}

void jobs_teardown(worker_t *w)
{
	if (!w->done_mu_ok)
		return;
	jobs_set_stopped(w, true);
	/* Jobs that came back after the loop stopped: their slots become ready
	 * (freed with the connection) or, orphaned, are freed now. */
	pending_t *next;
	for (pending_t *p = take_done(w); p; p = next) {
		next = p->done_next;
		job_returned(p, 0);
	}
	if (w->done_ev)
		event_free(w->done_ev);
	w->done_ev = NULL;
	pthread_mutex_destroy(&w->done_mu);
	w->done_mu_ok = false;
}
