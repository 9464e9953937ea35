/* registry.c - the registry's life cycle, the dispatch entry and the answer helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/reg_int.h"

void reg_log(idn_registry_t *r, int level, const char *fmt, ...)
{
	if (!r->o.log)
		return;
	va_list ap;
	va_start(ap, fmt);
	r->o.log(level, fmt, ap);
	va_end(ap);
}

int idn_identity_parse(const char *s, idn_identity_t *id)
{
	memset(id, 0, sizeof(*id));
	const char *colon = strchr(s, ':');
	if (!colon || colon == s)
		return IDN_EINVAL;
	uint64_t idx = 0;
	for (const char *p = s; p < colon; p++) {
		if (*p < '0' || *p > '9')
			return IDN_EINVAL;
		idx = idx * 10 + (uint64_t)(*p - '0');
		if (idx > 0x7fffffff)
			return IDN_EINVAL;
	}
	size_t hl = strlen(colon + 1);
	if (hl == 0 || hl > sizeof(id->handle))
		return IDN_EINVAL;
	memcpy(id->handle, colon + 1, hl);
	id->len = (uint16_t)hl;
	id->index = (uint32_t)idx;
	id->valid = true;
	return IDN_OK;
}

int idn_registry_new(const idn_registry_opts_t *o, idn_registry_t **out)
{
	if (!o->store || !o->node_prefix)
		return IDN_EINVAL;
	idn_registry_t *r = calloc(1, sizeof(*r));
	if (!r)
		return IDN_ENOMEM;
	r->o = *o;
	if (r->o.max_auth_time <= 0)
		r->o.max_auth_time = 60;
	if (r->o.max_batch <= 0)
		r->o.max_batch = 4096;
	for (int i = 0; i < o->n_server_admins && i < IDN_REG_MAX_ADMINS; i++) {
		if (idn_identity_parse(o->server_admins[i], &r->admins[r->n_admins]) != IDN_OK) {
			free(r);
			return IDN_EINVAL;
		}
		r->n_admins++;
	}
	/* Upstream: changes are queued for the top-level node from now on. */
	if (o->upstream && o->upstream[0]) {
		char id[IDN_ID_MAX_HANDLE + 16];
		if (o->upstream_identity && o->upstream_identity[0])
			snprintf(id, sizeof(id), "%s", o->upstream_identity);
		else
			snprintf(id, sizeof(id), "300:0.NA/%s", o->node_prefix);
		if (idn_identity_parse(id, &r->up_id) != IDN_OK) {
			free(r);
			return IDN_EINVAL;
		}
		r->up_enabled = true;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_mutex_init(&r->chal_mu, NULL);
	pthread_cond_init(&r->cond, NULL);
	*out = r;
	return IDN_OK;
}

int idn_registry_start(idn_registry_t *r)
{
	/* A registry may be started again after a stop. */
	pthread_mutex_lock(&r->mu);
	r->stopping = false;
	pthread_mutex_unlock(&r->mu);
	int rc = pthread_create(&r->writer, NULL, reg_writer_main, r);
	if (rc)
		return -rc;
	r->started = true;
	/* The sender (when upstream is set) goes with the writer. */
	int ret = reg_upstream_start(r);
	if (ret)
		idn_registry_stop(r);
	return ret;
}

void idn_registry_stop(idn_registry_t *r)
{
	if (!r || !r->started)
		return;
	reg_upstream_stop(r);
	pthread_mutex_lock(&r->mu);
	r->stopping = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
	/* The writer drains the queue before it leaves: every queued write is
	 * committed and answered. */
	pthread_join(r->writer, NULL);
	r->started = false;
}

void idn_registry_free(idn_registry_t *r)
{
	if (!r)
		return;
	idn_registry_stop(r);
	reg_challenges_free(r);
	reg_counters_free(r);
	free(r->vold);
	free(r->vnew);
	free(r->enc);
	pthread_mutex_destroy(&r->mu);
	pthread_mutex_destroy(&r->chal_mu);
	pthread_cond_destroy(&r->cond);
	free(r);
}

void idn_registry_set_quotas(idn_registry_t *r, uint64_t identifiers, uint64_t daily)
{
	pthread_mutex_lock(&r->mu);
	r->quota_ids_new = identifiers;
	r->quota_daily_new = daily;
	r->quota_set = true;
	if (!r->started) {
		r->o.quota_identifiers = identifiers;
		r->o.quota_daily = daily;
		r->quota_set = false;
	}
	pthread_mutex_unlock(&r->mu);
}

void idn_registry_stats(idn_registry_t *r, idn_registry_stats_t *st)
{
	st->commits = atomic_load(&r->st_commits);
	st->writes_ok = atomic_load(&r->st_ok);
	st->writes_refused = atomic_load(&r->st_refused);
	st->challenges = atomic_load(&r->st_chal);
	st->auth_ok = atomic_load(&r->st_auth_ok);
	st->auth_failed = atomic_load(&r->st_auth_fail);
	pthread_mutex_lock(&r->mu);
	st->queued = r->queued;
	pthread_mutex_unlock(&r->mu);
}

/* ---- answers ---- */

void reg_finish(idn_job_t *job, uint8_t *buf, size_t len)
{
	job->resp = buf;
	job->resp_len = len;
	job->done(job);
}

void reg_answer_built(idn_job_t *job, reg_build_fn build, void *arg, size_t hint)
{
	size_t cap = hint < 512 ? 512 : hint;
	for (;;) {
		uint8_t *buf = malloc(cap);
		if (!buf)
			break;
		idn_wire_t w;
		idn_wire_init(&w, buf, cap);
		int ret = build(&w, arg);
		if (ret == IDN_OK && w.err == IDN_OK) {
			reg_finish(job, buf, idn_wire_offset(&w));
			return;
		}
		free(buf);
		if (w.err != IDN_ESPACE || cap >= ((size_t)1 << 30))
			break;
		cap *= 2;
	}
	/* No memory (or nothing fits): close rather than leave the client
	 * waiting on an answer that never comes. */
	job->close = true;
	reg_finish(job, NULL, 0);
}

typedef struct {
	const idn_job_t *job;
	const idn_msg_t *req;
	uint32_t rcode;
	const char *msg;
} err_arg_t;

static int build_error(idn_wire_t *w, void *arg)
{
	err_arg_t *a = arg;
	return idn_resp_error(w, a->req, &a->job->ctx, a->rcode, a->msg);
}

void reg_answer_error(idn_job_t *job, const idn_msg_t *req, uint32_t rcode, const char *msg)
{
	err_arg_t a = { job, req, rcode, msg };
	reg_answer_built(job, build_error, &a, 256 + (msg ? strlen(msg) : 0));
}

/* ---- dispatch ---- */

static bool is_admin_op(uint32_t oc)
{
	return (oc >= IDN_OC_CREATE_HANDLE && oc <= IDN_OC_LIST_HANDLES) ||
	       (oc >= IDN_OC_HOME_NA && oc <= IDN_OC_LIST_HOMED_NAS);
}

void idn_registry_submit(void *registry, idn_job_t *job)
{
	idn_registry_t *r = registry;
	const idn_msg_t *m = &job->msg;
	uint32_t oc = m->hdr.opcode;
	/* Every answer to this job (errors, challenges, results) is built from
	 * job->ctx, so the key set here signs them all when CT asks. */
	if (r->o.sign_key)
		job->ctx.sign_key = r->o.sign_key;

	if (oc == IDN_OC_RESPONSE_TO_CHALLENGE) {
		reg_answer(r, job);
		return;
	}
	if (oc == IDN_OC_LOGIN_ID_SYSTEM) {
		idn_login_req_t l;
		if (idn_login_req_decode(m->body.p, m->body.len, &l) != IDN_OK ||
		    l.handle.len == 0) {
			reg_answer_error(job, m, IDN_RC_PROTOCOL_ERROR, "Malformed login request");
			return;
		}
		if (!job->conn) {
			reg_answer_error(job, m, IDN_RC_PROTOCOL_ERROR,
					 "Login needs a connection (TCP)");
			return;
		}
		reg_challenge(r, job, oc);
		return;
	}
	if (is_admin_op(oc)) {
		const char *msg = NULL;
		uint32_t rc = reg_precheck(r, m, (idn_reader_t *)job->reader, &msg);
		if (rc) {
			reg_answer_error(job, m, rc, msg);
			return;
		}
		/* A connection that logged in (IDIS) is authorized as its identity. */
		if (job->conn && job->conn->identity.valid) {
			idn_identity_t who = job->conn->identity;
			reg_execute(r, job, NULL, m, &who);
			return;
		}
		/* HTTP authenticates in its own layer (Basic, Handle sessions):
		 * nobody answers a native challenge there, so none is kept. */
		if (job->transport == IDN_TR_HTTP) {
			reg_answer_error(job, m, IDN_RC_AUTHENTICATION_NEEDED, NULL);
			return;
		}
		reg_challenge(r, job, oc);
		return;
	}
	if (oc >= IDN_OC_SESSION_SETUP && oc <= IDN_OC_SESSION_EXCHANGEKEY) {
		reg_answer_error(job, m, IDN_RC_OPERATION_NOT_SUPPORTED,
				 "Sessions are not supported: authenticate each request, or log in");
		return;
	}
	reg_answer_error(job, m, IDN_RC_OPERATION_NOT_SUPPORTED,
			 "Operation not supported by this server");
}
