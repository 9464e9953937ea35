/* import_conn.c - one connection of `idnode import`: logged in once, creates pipelined, existing handles compared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/import.h"
#include "proto/msg.h"
#include "proto/record.h"

/* What a slot's request in flight is. */
enum { S_CREATE, S_RESOLVE, S_OVERWRITE };

typedef struct {
	imp_job_t *job;
	uint32_t rid;
	int state;
	int retries;              /* re-creates after the handle vanished */
} slot_t;

typedef struct {
	imp_t *m;
	idn_client_t *c;
	uint32_t session;
	slot_t *slots;
	unsigned used;
	uint8_t *req;             /* one request being written */
	size_t req_cap;
	unsigned quiet;           /* reconnections since the last answer */
} conn_t;

/* A node that takes connections and logins but answers nothing else would
 * keep a worker reconnecting forever: give up after this many in a row. */
#define MAX_QUIET_RECONNECTS 6

static int send_slot(conn_t *k, slot_t *s)
{
	idn_wire_t w;
	idn_wire_init(&w, k->req, k->req_cap);
	s->rid = idn_client_request_id(k->c);
	int ret;
	if (s->state == S_RESOLVE) {
		/* Public values only, outside the session: what anyone sees. */
		idn_resolve_req_t r = { .handle = { (const uint8_t *)s->job->handle,
						    (uint32_t)strlen(s->job->handle) } };
		idn_envelope_t env = { .major = IDN_PROTO_MAJOR, .minor = IDN_PROTO_MINOR,
				       .sugg_major = IDN_PROTO_MAJOR, .sugg_minor = IDN_PROTO_MINOR,
				       .request_id = s->rid };
		idn_header_t hdr = { .opcode = IDN_OC_RESOLUTION,
				     .opflag = IDN_OF_REC | IDN_OF_CA | IDN_OF_PO,
				     .site_serial = 0xffff,
				     .expiration = (uint32_t)time(NULL) + 43200 };
		size_t start = idn_msg_begin(&w, &env, &hdr);
		idn_resolve_req_encode(&w, &r);
		ret = idn_msg_end(&w, start, true);
	} else {
		idn_req_opts_t o = { .request_id = s->rid, .session_id = k->session,
				     .opflag = s->state == S_OVERWRITE ? IDN_OF_OVRW : 0 };
		ret = idn_build_values_req(&w, IDN_OC_CREATE_HANDLE, s->job->handle,
					   s->job->n_values,
					   (idn_bytes_t){ s->job->values, (uint32_t)s->job->values_len },
					   &o);
	}
	if (ret)
		return ret;
	return idn_client_write(k->c, k->req, idn_wire_offset(&w));
}

/* Do the stored public values equal the job's (index, type, data)? The
 * HS_ADMIN we add is left out of the comparison when the input had none. */
static bool same_values(const imp_job_t *j, const idn_msg_t *m)
{
	idn_bytes_t body;
	if (idn_resp_body(m, &body))
		return false;
	idn_wire_t w;
	idn_wire_init_ro(&w, body.p, body.len);
	idn_wire_get_bstr(&w, IDN_MAX_BSTR);
	uint32_t n = idn_wire_get_u32(&w);
	if (w.err || n > IDN_MAX_VALUES)
		return false;
	const uint8_t *stored = w.pos;
	size_t stored_len = idn_wire_avail(&w);
	uint32_t mine = 0, theirs = 0;
	idn_wire_t a;
	idn_wire_init_ro(&a, j->values, j->values_len);
	for (uint32_t i = 0; i < j->n_values; i++) {
		idn_value_t v;
		if (idn_value_decode(&a, &v))
			return false;
		if (!(v.perms & IDN_PERM_PUBLIC_READ) ||
		    (j->added_admin && idn_bytes_eq_str(v.type, "HS_ADMIN")))
			continue;
		mine++;
		bool found = false;
		idn_wire_t b;
		idn_wire_init_ro(&b, stored, stored_len);
		for (uint32_t k = 0; k < n && !found; k++) {
			idn_value_t s;
			if (idn_value_decode(&b, &s))
				return false;
			found = s.index == v.index && s.type.len == v.type.len &&
				s.data.len == v.data.len &&
				memcmp(s.type.p, v.type.p, v.type.len) == 0 &&
				(v.data.len == 0 || memcmp(s.data.p, v.data.p, v.data.len) == 0);
		}
		if (!found)
			return false;
	}
	idn_wire_t b;
	idn_wire_init_ro(&b, stored, stored_len);
	for (uint32_t k = 0; k < n; k++) {
		idn_value_t s;
		if (idn_value_decode(&b, &s))
			return false;
		if (!(j->added_admin && idn_bytes_eq_str(s.type, "HS_ADMIN")))
			theirs++;
	}
	return mine == theirs;
}

static void fail_msg(const idn_msg_t *m, char *out, size_t cap)
{
	idn_bytes_t t = idn_resp_message(m);
	snprintf(out, cap, "%s%s%.*s", idn_rc_name(m->hdr.rcode), t.len ? ": " : "", (int)t.len,
		 (const char *)t.p);
}

static void release(conn_t *k, slot_t *s)
{
	*s = k->slots[--k->used]; /* order does not matter: answers are matched by id */
}

/* One answer: finish its job or send the next step. */
static int on_answer(conn_t *k, const uint8_t *p, size_t len)
{
	idn_msg_t m;
	if (idn_msg_decode(p, len, &m))
		return IDN_EPROTO;
	slot_t *s = NULL;
	for (unsigned i = 0; i < k->used && !s; i++)
		if (k->slots[i].rid == m.env.request_id)
			s = &k->slots[i];
	if (!s)
		return IDN_OK; /* an answer to nothing we wait for (e.g. after a resend) */
	k->quiet = 0;
	uint32_t rc = m.hdr.rcode;
	char why[600];
	if (s->state != S_RESOLVE) {
		if (rc == IDN_RC_SUCCESS) {
			imp_finish(k->m, s->job, IMP_CREATED, rc, NULL);
			release(k, s);
			return IDN_OK;
		}
		if (rc == IDN_RC_HANDLE_ALREADY_EXISTS && s->state == S_CREATE) {
			s->state = S_RESOLVE; /* idempotent: compare with what is there */
			return send_slot(k, s);
		}
		fail_msg(&m, why, sizeof(why));
		imp_finish(k->m, s->job, IMP_FAILED, rc, why);
		release(k, s);
		return IDN_OK;
	}
	if (rc == IDN_RC_SUCCESS && same_values(s->job, &m)) {
		imp_finish(k->m, s->job, IMP_EXISTING, rc, NULL);
	} else if (rc == IDN_RC_SUCCESS && k->m->overwrite) {
		s->state = S_OVERWRITE;
		return send_slot(k, s);
	} else if ((rc == IDN_RC_HANDLE_NOT_FOUND) && s->retries++ < 2) {
		s->state = S_CREATE; /* deleted meanwhile: try again */
		return send_slot(k, s);
	} else if (rc == IDN_RC_SUCCESS) {
		imp_finish(k->m, s->job, IMP_FAILED, IDN_RC_HANDLE_ALREADY_EXISTS,
			   "HANDLE_ALREADY_EXISTS: exists with other values (use --overwrite)");
	} else {
		fail_msg(&m, why, sizeof(why));
		snprintf(why + strlen(why), sizeof(why) - strlen(why), " (resolving the existing handle)");
		imp_finish(k->m, s->job, IMP_FAILED, IDN_RC_HANDLE_ALREADY_EXISTS, why);
	}
	release(k, s);
	return IDN_OK;
}

/* Open (or reopen) the connection and log in; resend what was in flight. */
static int connect_login(conn_t *k, char *why, size_t cap)
{
	imp_t *m = k->m;
	int ret = IDN_OK;
	for (int attempt = 0; attempt < 4; attempt++) {
		if (attempt)
			usleep(250000u << attempt);
		idn_client_disconnect(k->c);
		uint32_t rc = 0;
		char msg[256];
		k->session = (idn_client_request_id(k->c) & 0x3fffffff) | 1;
		ret = idn_client_login_rc(k->c, m->auth, k->session, &rc, msg, sizeof(msg));
		if (ret == IDN_ERESPONSE) {
			/* Refused: retrying will not change the answer. */
			snprintf(why, cap, "login as %u:%s refused: %u %s%s%s", m->auth->index,
				 m->auth->handle, rc, idn_rc_name(rc), msg[0] ? ": " : "", msg);
			return ret;
		}
		if (ret == IDN_OK) {
			for (unsigned i = 0; i < k->used && !ret; i++)
				ret = send_slot(k, &k->slots[i]);
			if (ret == IDN_OK)
				return IDN_OK;
		}
		snprintf(why, cap, "connection to %s: %s", m->server,
			 ret == IDN_EPROTO ? "closed or bad answer" : idn_strerror(ret));
	}
	return ret;
}

void *imp_worker(void *arg)
{
	imp_t *m = arg;
	conn_t k = { .m = m };
	char why[700];
	k.req_cap = IDN_MAX_MESSAGE_LEN + IDN_ENVELOPE_LEN;
	k.req = malloc(k.req_cap);
	k.slots = calloc(m->window, sizeof(slot_t));
	if (!k.req || !k.slots || idn_client_open(m->server, IDN_CLIENT_TCP, m->timeout_ms, &k.c)) {
		imp_stop(m, "out of memory");
		goto out;
	}
	if (connect_login(&k, why, sizeof(why))) {
		imp_stop(m, why);
		goto out;
	}
	bool eof = false;
	for (;;) {
		int ret = IDN_OK;
		while (!eof && k.used < m->window && !ret) {
			bool busy;
			imp_job_t *j = imp_pull(m, k.used == 0, &busy);
			if (!j) {
				eof = !busy;
				break;
			}
			slot_t *s = &k.slots[k.used++];
			*s = (slot_t){ .job = j, .state = S_CREATE };
			ret = send_slot(&k, s);
			/* Read what has come meanwhile, so neither side's buffers fill. */
			const uint8_t *p;
			size_t len;
			while (!ret && (ret = idn_client_read(k.c, 0, &p, &len)) == IDN_OK)
				ret = on_answer(&k, p, len);
			if (ret == IDN_EAGAIN)
				ret = IDN_OK;
		}
		if (!ret && k.used == 0 && eof)
			break;
		if (!ret) {
			const uint8_t *p;
			size_t len;
			ret = idn_client_read(k.c, -1, &p, &len);
			if (!ret)
				ret = on_answer(&k, p, len);
		}
		if (ret && ret != IDN_ENOMEM && ++k.quiet <= MAX_QUIET_RECONNECTS &&
		    connect_login(&k, why, sizeof(why)) == IDN_OK)
			continue;
		if (ret && k.quiet > MAX_QUIET_RECONNECTS)
			snprintf(why, sizeof(why), "%s: no answer after %d reconnections (%s)",
				 m->server, MAX_QUIET_RECONNECTS, idn_strerror(ret));
		if (ret) {
			/* Jobs in flight stay unfinished: the progress file stays below
			 * them and --resume sends them again. */
			if (ret == IDN_ENOMEM)
				snprintf(why, sizeof(why), "out of memory");
			imp_stop(m, why);
			for (unsigned i = 0; i < k.used; i++)
				imp_job_free(k.slots[i].job);
			k.used = 0;
			break;
		}
	}
out:
	idn_client_close(k.c);
	free(k.req);
	free(k.slots);
	return NULL;
}
