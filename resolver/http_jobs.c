/* http_jobs.c - HTTP requests handed to the dispatch table as native jobs; their answers come back to the thread's loop. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "resolver/http_int.h"

/* Any thread, possibly inside submit(): queue it for the HTTP thread (the
 * same pattern as tcp_jobs.c; event_active is thread-safe). */
static void job_done(idn_job_t *jb)
{
	http_job_t *j = (http_job_t *)jb;
	http_thread_t *t = jb->owner;
	pthread_mutex_lock(&t->done_mu);
	j->next = NULL;
	if (t->done_tail)
		t->done_tail->next = j;
	else
		t->done_head = j;
	t->done_tail = j;
	if (!t->jobs_stopped)
		event_active(t->done_ev, EV_READ, 0);
	pthread_mutex_unlock(&t->done_mu);
}

int http_submit(http_ctx_t *c, const uint8_t *msg, size_t len, const idn_identity_t *who,
		http_job_fn fn, const void *user, size_t user_len)
{
	return http_submit_flags(c, msg, len, who, fn, user, user_len, 0);
}

int http_submit_flags(http_ctx_t *c, const uint8_t *msg, size_t len, const idn_identity_t *who,
		      http_job_fn fn, const void *user, size_t user_len, unsigned flags)
{
	http_thread_t *t = c->t;
	const idn_dispatch_t *d = t->srv->opts.dispatch;
	if (!d) {
		http_reply_error(c, 501, IDN_RC_OPERATION_NOT_SUPPORTED,
				 "Operation not supported by this server");
		return IDN_EINVAL;
	}
	if (user_len > HTTP_JOB_USER) {
		http_reply_error(c, 500, IDN_RC_ERROR, "Internal server error: job too large");
		return IDN_EINVAL;
	}
	http_job_t *j = malloc(sizeof(*j) + len);
	if (!j) {
		http_reply_error(c, 503, IDN_RC_SERVER_TOO_BUSY, "Server out of memory");
		return IDN_ENOMEM;
	}
	memset(j, 0, sizeof(*j));
	memcpy(j->req, msg, len);
	idn_job_t *jb = &j->job;
	jb->req = j->req;
	jb->req_len = len;
	if (idn_msg_decode(jb->req, len, &jb->msg) != IDN_OK) {
		free(j);
		http_reply_error(c, 500, IDN_RC_ERROR, "Internal server error: bad native request");
		return IDN_EINVAL;
	}
	j->ctx = *c;
	j->fn = fn;
	j->shared = (flags & HTTP_JOB_SHARED) != 0;
	jb->idempotent = (flags & HTTP_JOB_IDEMPOTENT) != 0;
	if (user_len)
		memcpy(j->user, user, user_len);
	if (who)
		j->conn.identity = *who;
	jb->transport = IDN_TR_HTTP;
	struct evhttp_connection *ec = evhttp_request_get_connection(c->req);
	const struct sockaddr *sa = ec ? evhttp_connection_get_addr(ec) : NULL;
	if (sa)
		memcpy(&jb->peer, sa,
		       sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						 : sizeof(struct sockaddr_in));
	/* A per-request "connection": the identity it runs as, nothing kept. */
	jb->conn = &j->conn;
	jb->reader = t->reader;
	t->q.now = (uint32_t)time(NULL);
	idn_query_resp_ctx(&t->q, &jb->ctx);
	jb->done = job_done;
	jb->owner = t;
	if (idn_reader_begin(t->reader) != IDN_OK) {
		free(j);
		http_reply_error(c, 503, IDN_RC_SERVER_TOO_BUSY, "Storage busy");
		return IDN_EREADERS;
	}
	/* The request is answered from the job: the handler's context is done. */
	c->replied = true;
	t->outstanding++;
	d->submit(d->ctx, jb);
	idn_reader_end(t->reader);
	return IDN_OK;
}

static http_job_t *take_done(http_thread_t *t)
{
	pthread_mutex_lock(&t->done_mu);
	http_job_t *j = t->done_head;
	t->done_head = t->done_tail = NULL;
	pthread_mutex_unlock(&t->done_mu);
	return j;
}

static void job_free(http_job_t *j)
{
	free(j->job.resp);
	free(j);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	http_thread_t *t = arg;
	http_job_t *next;
	for (http_job_t *j = take_done(t); j; j = next) {
		next = j->next;
		t->outstanding--;
		t->q.now = (uint32_t)time(NULL);
		j->ctx.replied = false;
		if (j->fn)
			j->fn(j);
		if (!j->ctx.replied && !j->shared)
			http_reply_error(&j->ctx, 500, IDN_RC_ERROR, "Internal server error: no answer");
		job_free(j);
	}
}

int http_jobs_setup(http_thread_t *t)
{
	if (pthread_mutex_init(&t->done_mu, NULL) != 0)
		return IDN_ENOMEM;
	t->done_mu_ok = true;
	t->jobs_stopped = true;
	t->done_ev = event_new(t->base, -1, 0, on_done, t);
	return t->done_ev ? IDN_OK : IDN_ENOMEM;
}

void http_jobs_set_stopped(http_thread_t *t, bool stopped)
{
	if (!t->done_mu_ok)
		return;
	pthread_mutex_lock(&t->done_mu);
	t->jobs_stopped = stopped;
	if (!stopped && t->done_head && t->done_ev)
		event_active(t->done_ev, EV_READ, 0);
	pthread_mutex_unlock(&t->done_mu);
}

void http_jobs_teardown(http_thread_t *t)
{
	if (!t->done_mu_ok)
		return;
	http_jobs_set_stopped(t, true);
	/* Answers that came back after the loop stopped: the clients get a 503
	 * (queued on connections about to be freed, or freeing a request whose
	 * connection is already gone), then the job goes. */
	http_job_t *next;
	for (http_job_t *j = take_done(t); j; j = next) {
		next = j->next;
		t->outstanding--;
		j->ctx.replied = false;
		if (j->shared && j->fn)
			j->fn(j); /* the owner of the request replies once, 503 */
		else
			http_reply_error(&j->ctx, 503, IDN_RC_SERVER_TOO_BUSY, "Server shutting down");
		job_free(j);
	}
	if (t->done_ev)
		event_free(t->done_ev);
	t->done_ev = NULL;
	pthread_mutex_destroy(&t->done_mu);
	t->done_mu_ok = false;
}
