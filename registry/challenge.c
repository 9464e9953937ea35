/* challenge.c - challenge-response authentication: RC 402 challenges, OC 200 answers, and the IDIS login bound to a connection. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/auth.h"
#include "proto/crypto.h"
#include "registry/reg_int.h"

static unsigned bucket_of(uint32_t id)
{
	return (id * 2654435761u) % CHAL_BUCKETS;
}

static void chal_unlink(idn_registry_t *r, chal_t *c)
{
	chal_t **pp = &r->chal_bucket[bucket_of(c->id)];
	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	if (c->older)
		c->older->newer = c->newer;
	else
		r->chal_oldest = c->newer;
	if (c->newer)
		c->newer->older = c->older;
	else
		r->chal_newest = c->older;
	r->chal_count--;
}

static void chal_free(chal_t *c)
{
	if (c) {
		free(c->req);
		free(c);
	}
}

static chal_t *chal_find(idn_registry_t *r, uint32_t id)
{
	for (chal_t *c = r->chal_bucket[bucket_of(id)]; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

/* Drop expired challenges (and the oldest when the table is full). Locked. */
static void chal_expire(idn_registry_t *r, uint32_t now)
{
	while (r->chal_oldest &&
	       (now - r->chal_oldest->created > (uint32_t)r->o.max_auth_time ||
		r->chal_count >= CHAL_MAX)) {
		chal_t *c = r->chal_oldest;
		chal_unlink(r, c);
		chal_free(c);
	}
}

/* Insert with a fresh random id that is neither 0 nor in use. Locked. */
static int chal_insert(idn_registry_t *r, chal_t *c)
{
	for (int tries = 0; tries < 16; tries++) {
		uint32_t id;
		if (idn_random(&id, sizeof(id)) != IDN_OK)
			return IDN_ECRYPTO;
		id &= 0x7fffffff; /* a Java int: keep it positive for CNRI clients */
		if (id == 0 || chal_find(r, id))
			continue;
		c->id = id;
		unsigned b = bucket_of(id);
		c->next = r->chal_bucket[b];
		r->chal_bucket[b] = c;
		c->older = r->chal_newest;
		c->newer = NULL;
		if (r->chal_newest)
			r->chal_newest->newer = c;
		else
			r->chal_oldest = c;
		r->chal_newest = c;
		r->chal_count++;
		return IDN_OK;
	}
	return IDN_EAGAIN;
}

static chal_t *chal_take(idn_registry_t *r, uint32_t id)
{
	pthread_mutex_lock(&r->chal_mu);
	chal_t *c = chal_find(r, id);
	if (c)
		chal_unlink(r, c);
	pthread_mutex_unlock(&r->chal_mu);
	return c;
}

void reg_challenges_free(idn_registry_t *r)
{
	while (r->chal_oldest) {
		chal_t *c = r->chal_oldest;
		chal_unlink(r, c);
		chal_free(c);
	}
}

typedef struct {
	idn_job_t *job;
	chal_t *c;
	uint32_t opcode;
	uint32_t session;
} chal_arg_t;

static int build_challenge(idn_wire_t *w, void *arg)
{
	chal_arg_t *a = arg;
	idn_resp_opts_t o = { .opcode = a->opcode, .rcode = IDN_RC_AUTHENTICATION_NEEDED,
			      .force_digest = true, .set_session = true,
			      .session_id = a->session };
	size_t start = idn_resp_begin(w, &a->job->msg, &a->job->ctx, &o);
	/* Keep the digest exactly as sent: the answer is a signature over it. */
	size_t dpos = start + IDN_MSG_BODY_OFF;
	if (w->err == IDN_OK && idn_wire_offset(w) > dpos) {
		size_t dl = idn_wire_offset(w) - dpos - 1;
		if (dl > sizeof(a->c->digest))
			return IDN_EINVAL;
		memcpy(a->c->digest, w->base + dpos + 1, dl);
		a->c->digest_len = dl;
	}
	idn_wire_put_bstr(w, a->c->nonce, IDN_NONCE_LEN);
	return idn_resp_end(w, start, &a->job->msg, &a->job->ctx);
}

void reg_challenge(idn_registry_t *r, idn_job_t *job, uint32_t opcode)
{
	const idn_msg_t *m = &job->msg;
	chal_t *c = calloc(1, sizeof(*c));
	if (!c || !(c->req = malloc(job->req_len))) {
		free(c);
		reg_answer_error(job, m, IDN_RC_SERVER_TOO_BUSY, "Out of memory");
		return;
	}
	memcpy(c->req, job->req, job->req_len);
	c->req_len = job->req_len;
	c->created = job->ctx.now;
	if (idn_random(c->nonce, sizeof(c->nonce)) != IDN_OK) {
		chal_free(c);
		reg_answer_error(job, m, IDN_RC_AUTHEN_ERROR, "No randomness for a challenge");
		return;
	}
	pthread_mutex_lock(&r->chal_mu);
	chal_expire(r, job->ctx.now);
	int ret = chal_insert(r, c);
	pthread_mutex_unlock(&r->chal_mu);
	if (ret) {
		chal_free(c);
		reg_answer_error(job, m, IDN_RC_SERVER_TOO_BUSY, "Cannot issue a challenge now");
		return;
	}
	uint32_t session = c->id;
	if (opcode == IDN_OC_LOGIN_ID_SYSTEM) {
		/* IDIS: the login belongs to this connection. The challenge echoes
		 * the client's session label when it has one (the SDK then answers
		 * with it); the answer is matched through the connection. */
		if (m->env.session_id != 0)
			session = m->env.session_id;
		job->conn->login_pending = true;
		job->conn->login_challenge = c->id;
		job->conn->session_id = m->env.session_id;
	}
	atomic_fetch_add(&r->st_chal, 1);
	/* The digest is filled in while the answer is built: nobody can answer
	 * before the challenge has been sent. */
	chal_arg_t a = { job, c, opcode, session };
	reg_answer_built(job, build_challenge, &a, 256);
}

/* Check the answer against the key values of the identity it names (the
 * same key lookup and checks as HTTP authentication, verify.c; HS_PUBKEY
 * answers with the key handle as the SM2 signer id). On success *who is the
 * identity (with the index whose key verified). */
static uint32_t verify(idn_job_t *job, const chal_t *c, const idn_challenge_answer_t *a,
		       idn_identity_t *who, const char **msg)
{
	bool seckey = idn_bytes_eq_str(a->auth_type, "HS_SECKEY");
	bool pubkey = idn_bytes_eq_str(a->auth_type, "HS_PUBKEY");
	if (!seckey && !pubkey) {
		*msg = "Unknown authentication type";
		return IDN_RC_INVALID_CREDENTIAL;
	}
	idn_verify_t v = { .type = seckey ? "HS_SECKEY" : "HS_PUBKEY",
			   .handle = a->key_handle.p, .handle_len = a->key_handle.len,
			   .index = a->key_index,
			   .nonce = c->nonce, .nonce_len = IDN_NONCE_LEN,
			   .digest = c->digest, .digest_len = c->digest_len,
			   .answer = a->answer.p, .answer_len = a->answer.len };
	int ret = reg_verify_key((idn_reader_t *)job->reader, &v, who, msg);
	if (ret == IDN_OK)
		return IDN_RC_SUCCESS;
	return ret == IDN_EINVAL ? IDN_RC_INVALID_CREDENTIAL : IDN_RC_AUTHENTICATION_FAILED;
}

/* A login binds the identity it named: the answer must prove that one. */
static bool login_matches(const idn_msg_t *orig, const idn_identity_t *who)
{
	idn_login_req_t l;
	if (idn_login_req_decode(orig->body.p, orig->body.len, &l) != IDN_OK)
		return false;
	if (l.index != 0 && l.index != who->index)
		return false;
	return idn_handle_eq_ci(l.handle.p, l.handle.len, who->handle, who->len);
}

typedef struct {
	idn_job_t *job;
	idn_msg_t *orig;
} login_arg_t;

static int build_login_ok(idn_wire_t *w, void *arg)
{
	login_arg_t *a = arg;
	/* RC 1 carrying the login's opcode: the IDIS SDK cannot decode RC 1
	 * with OC 200. */
	idn_resp_opts_t o = { .opcode = IDN_OC_LOGIN_ID_SYSTEM, .rcode = IDN_RC_SUCCESS };
	size_t start = idn_resp_begin(w, a->orig, &a->job->ctx, &o);
	return idn_resp_end(w, start, a->orig, &a->job->ctx);
}

void reg_answer(idn_registry_t *r, idn_job_t *job)
{
	const idn_msg_t *m = &job->msg;
	idn_challenge_answer_t a;
	if (idn_challenge_answer_decode(m->body.p, m->body.len, &a) != IDN_OK) {
		reg_answer_error(job, m, IDN_RC_PROTOCOL_ERROR, "Malformed challenge answer");
		return;
	}
	uint32_t id = m->env.session_id;
	idn_conn_state_t *cs = job->conn;
	if (cs && cs->login_pending && (id == cs->session_id || id == cs->login_challenge)) {
		id = cs->login_challenge;
		cs->login_pending = false;
	}
	chal_t *c = chal_take(r, id);
	if (!c) {
		reg_answer_error(job, m, IDN_RC_AUTHEN_TIMEOUT,
				 "No pending challenge for this session (expired or unknown)");
		return;
	}
	if (job->ctx.now - c->created > (uint32_t)r->o.max_auth_time) {
		chal_free(c);
		reg_answer_error(job, m, IDN_RC_AUTHEN_TIMEOUT, "Challenge expired");
		return;
	}
	idn_msg_t orig;
	if (idn_msg_decode(c->req, c->req_len, &orig) != IDN_OK) {
		chal_free(c);
		reg_answer_error(job, m, IDN_RC_ERROR, "Challenged request lost");
		return;
	}
	/* The final answer goes to the answer's RequestId, in the terms
	 * (version, session, flags) of the original request, as CNRI does. */
	orig.env.request_id = m->env.request_id;

	idn_identity_t who;
	const char *msg = NULL;
	uint32_t rc = verify(job, c, &a, &who, &msg);
	if (rc != IDN_RC_SUCCESS) {
		atomic_fetch_add(&r->st_auth_fail, 1);
		reg_answer_error(job, &orig, rc, msg);
		chal_free(c);
		return;
	}
	if (orig.hdr.opcode == IDN_OC_LOGIN_ID_SYSTEM && !login_matches(&orig, &who)) {
		atomic_fetch_add(&r->st_auth_fail, 1);
		reg_answer_error(job, &orig, IDN_RC_AUTHENTICATION_FAILED,
				 "The answer is not for the identity that logged in");
		chal_free(c);
		return;
	}
	atomic_fetch_add(&r->st_auth_ok, 1);
	if (orig.hdr.opcode == IDN_OC_LOGIN_ID_SYSTEM) {
		if (cs) {
			cs->identity = who;
			cs->session_id = orig.env.session_id;
		}
		login_arg_t la = { job, &orig };
		reg_answer_built(job, build_login_ok, &la, 256);
		chal_free(c);
		return;
	}
	uint8_t *req = c->req;
	c->req = NULL;
	chal_free(c);
	reg_execute(r, job, req, &orig, &who);
}
