/* upstream.c - the sender: one thread delivering the outbox to the top-level node in order, logged in once per connection, with backoff across its addresses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ares.h>

#include "client/addr.h"
#include "client/admin.h"
#include "registry/reg_int.h"
#include "client/resolve.h"

/*
 * The outbox belongs to the registry, and so does this thread: deleting a
 * delivered entry is a write of its own (a small txn; LMDB serialises it
 * with the writer's group commits), but it touches only the outbox, which
 * no request of a client ever writes, so "the registry is the only writer"
 * still holds and a client's write never waits for the top.
 */

#define TIMEOUT_MS 5000          /* connect, send, answer */
#define DNS_TIMEOUT_MS 5000
#define IDLE_RECONNECT 30        /* s: a quiet connection may have been closed by the top */
#define LOG_EVERY 60             /* s between two log lines of the same kind */
#define MAX_BLOCKED 16           /* refused handles skipped per round */

enum { RES_DONE, RES_REFUSED, RES_AUTH_REFUSED, RES_FAILED };

typedef struct reg_upstream {
	idn_registry_t *r;
	pthread_t thread;
	pthread_mutex_t mu;          /* stop, kicked, the figures below */
	pthread_cond_t cond;
	atomic_bool stop;
	bool kicked;

	idn_auth_t auth;
	up_target_t tg[UP_MAX_TARGETS];
	int ntg, cur_tg, cur_addr;
	up_dns_t *dns;

	idn_client_t *c;             /* the connection, NULL when none */
	char addr[80];               /* its address */
	bool logged_in;
	uint32_t session;
	time_t last_io;

	uint8_t *body, *req;         /* IDN_OUTBOX_MAX_BODY, + overhead */
	uint8_t blocked[MAX_BLOCKED][IDN_STORE_MAX_KEY]; /* refused handles of this round */
	size_t blen[MAX_BLOCKED];
	time_t last_fail_log, last_refuse_log;

	uint64_t sent, refused, failures;
	char last_error[256];
	uint32_t last_error_time;
	char in_use[80];
} reg_upstream_t;

static void set_error(reg_upstream_t *u, int kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Count and remember an error; log it unless one of its kind was logged
 * in the last minute (a down top must not flood the log). */
static void set_error(reg_upstream_t *u, int kind, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	time_t now = time(NULL);
	pthread_mutex_lock(&u->mu);
	if (kind == RES_FAILED)
		u->failures++;
	else
		u->refused++;
	snprintf(u->last_error, sizeof(u->last_error), "%s", msg);
	u->last_error_time = (uint32_t)now;
	pthread_mutex_unlock(&u->mu);
	time_t *last = kind == RES_FAILED ? &u->last_fail_log : &u->last_refuse_log;
	if (now - *last >= LOG_EVERY) {
		*last = now;
		reg_log(u->r, kind == RES_FAILED ? 4 : 3, "upstream: %s%s", msg,
			kind == RES_FAILED ? " (will retry)" : " (kept in the outbox, retried later)");
	}
}

/* Wait up to `secs`; a kick ends the wait only when `kickable` (idle). */
static void wait_for(reg_upstream_t *u, int secs, bool kickable)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	pthread_mutex_lock(&u->mu);
	while (!atomic_load(&u->stop) && !(kickable && u->kicked))
		if (pthread_cond_timedwait(&u->cond, &u->mu, &ts) != 0)
			break;
	u->kicked = false;
	pthread_mutex_unlock(&u->mu);
}

static void disconnect(reg_upstream_t *u)
{
	idn_client_close(u->c);
	u->c = NULL;
	u->logged_in = false;
	pthread_mutex_lock(&u->mu);
	u->in_use[0] = 0;
	pthread_mutex_unlock(&u->mu);
}

/* On to the next address (of this name, then of the next target); true
 * when every one has had its turn. */
static bool advance(reg_upstream_t *u)
{
	if (++u->cur_addr < u->tg[u->cur_tg].naddrs)
		return false;
	u->cur_addr = 0;
	u->cur_tg = (u->cur_tg + 1) % u->ntg;
	return u->cur_tg == 0;
}

/* Connect to the current address and log in (IDIS OC 2001). A top that
 * does not know the login (RC 4 or 5, CNRI's) is asked per request
 * instead: idn_client_admin answers each challenge. */
static int connect_login(reg_upstream_t *u)
{
	up_target_t *t = &u->tg[u->cur_tg];
	if (up_dns_refresh(u->dns, t, DNS_TIMEOUT_MS, &u->stop) != IDN_OK) {
		set_error(u, RES_FAILED, "%s", t->error);
		return RES_FAILED;
	}
	if (u->cur_addr >= t->naddrs)
		u->cur_addr = 0;
	idn_format_addr((struct sockaddr *)&t->addrs[u->cur_addr], u->addr, sizeof(u->addr));
	int ret = idn_client_open(u->addr, IDN_CLIENT_TCP, TIMEOUT_MS, &u->c);
	if (ret) {
		set_error(u, RES_FAILED, "%s: %s", u->addr, idn_strerror(ret));
		return RES_FAILED;
	}
	uint32_t rc = 0;
	char msg[160];
	u->session = (idn_client_request_id(u->c) & 0x3fffffff) | 1;
	ret = idn_client_login_rc(u->c, &u->auth, u->session, &rc, msg, sizeof(msg));
	if (ret == IDN_ERESPONSE && (rc == IDN_RC_OPERATION_NOT_SUPPORTED ||
				     rc == IDN_RC_PROTOCOL_ERROR)) {
		ret = IDN_OK; /* challenge-response per request */
	} else if (ret == IDN_ERESPONSE) {
		set_error(u, RES_AUTH_REFUSED, "%s: login as %u:%s refused: %u %s%s%s", u->addr,
			  u->auth.index, u->auth.handle, rc, idn_rc_name(rc), msg[0] ? ": " : "", msg);
		disconnect(u);
		return RES_AUTH_REFUSED;
	} else if (ret) {
		set_error(u, RES_FAILED, "%s: login: %s", u->addr,
			  ret == IDN_EPROTO ? "connection closed or bad answer" : idn_strerror(ret));
		disconnect(u);
		return RES_FAILED;
	} else {
		u->logged_in = true;
	}
	u->last_io = time(NULL);
	pthread_mutex_lock(&u->mu);
	snprintf(u->in_use, sizeof(u->in_use), "%s", u->addr);
	pthread_mutex_unlock(&u->mu);
	reg_log(u->r, 6, "upstream: connected to %s as %u:%s (%s)", u->addr, u->auth.index,
		u->auth.handle, u->logged_in ? "logged in" : "challenge per request");
	return RES_DONE;
}

/* The handle an entry is about: every admin body starts with it. */
static idn_bytes_t entry_handle(const idn_outbox_entry_t *e)
{
	idn_wire_t w;
	idn_wire_init_ro(&w, e->body.p, e->body.len);
	idn_bytes_t h = idn_wire_get_bstr(&w, IDN_STORE_MAX_KEY);
	return w.err ? (idn_bytes_t){ NULL, 0 } : h;
}

/* Send one entry on the connection; what its answer means. */
static int deliver(reg_upstream_t *u, const idn_outbox_entry_t *e)
{
	if (u->c && time(NULL) - u->last_io > IDLE_RECONNECT)
		disconnect(u);
	if (!u->c) {
		int res = connect_login(u);
		if (res != RES_DONE)
			return res;
	}
	idn_envelope_t env = { .major = IDN_PROTO_MAJOR, .minor = IDN_PROTO_MINOR,
			       .sugg_major = IDN_PROTO_MAJOR, .sugg_minor = IDN_PROTO_MINOR,
			       .session_id = u->logged_in ? u->session : 0,
			       .request_id = idn_client_request_id(u->c) };
	idn_header_t hdr = { .opcode = e->opcode,
			     .opflag = IDN_OF_REC | IDN_OF_CA | IDN_OF_PO | e->opflag,
			     .site_serial = 0xffff,
			     .expiration = (uint32_t)time(NULL) + 43200 };
	idn_wire_t w;
	idn_wire_init(&w, u->req, IDN_OUTBOX_MAX_BODY + IDN_REQ_OVERHEAD);
	size_t start = idn_msg_begin(&w, &env, &hdr);
	idn_wire_put_raw(&w, e->body.p, e->body.len);
	idn_bytes_t h = entry_handle(e);
	if (idn_msg_end(&w, start, true) != IDN_OK) {
		set_error(u, RES_REFUSED, "%.*s: entry %llu does not fit in a message", (int)h.len,
			  (const char *)h.p, (unsigned long long)e->seq);
		return RES_REFUSED;
	}
	idn_msg_t m;
	int ret = idn_client_admin(u->c, &u->auth, u->req, idn_wire_offset(&w), &m);
	u->last_io = time(NULL);
	if (ret) {
		set_error(u, RES_FAILED, "%s: %.*s: %s", u->addr, (int)h.len, (const char *)h.p,
			  ret == IDN_EPROTO ? "connection closed or bad answer" : idn_strerror(ret));
		disconnect(u);
		return RES_FAILED;
	}
	uint32_t rc = m.hdr.rcode;
	if (rc == IDN_RC_SUCCESS ||
	    (rc == IDN_RC_HANDLE_NOT_FOUND && e->opcode == IDN_OC_DELETE_HANDLE))
		return RES_DONE;
	idn_bytes_t t = idn_resp_message(&m);
	int kind = RES_REFUSED;
	if (rc == IDN_RC_ERROR || rc == IDN_RC_SERVER_TOO_BUSY || rc == IDN_RC_AUTHEN_TIMEOUT ||
	    rc == IDN_RC_AUTHENTICATION_NEEDED || rc == IDN_RC_SERVER_BACKUP)
		kind = RES_FAILED; /* may well work next time */
	else if (rc == IDN_RC_AUTHENTICATION_FAILED || rc == IDN_RC_INVALID_CREDENTIAL ||
		 rc == IDN_RC_AUTHEN_ERROR)
		kind = RES_AUTH_REFUSED; /* our key: every entry would be refused */
	set_error(u, kind, "%s: %.*s: %u %s%s%.*s", u->addr, (int)h.len, (const char *)h.p, rc,
		  idn_rc_name(rc), t.len ? ": " : "", (int)t.len, (const char *)t.p);
	if (kind != RES_REFUSED)
		disconnect(u);
	return kind;
}

static void remove_entry(reg_upstream_t *u, uint64_t seq)
{
	idn_txn_t *t;
	int ret = idn_txn_begin(u->r->o.store, &t);
	if (!ret) {
		idn_txn_outbox_del(t, seq);
		ret = idn_txn_commit(t);
	}
	/* Not removed: it is sent again later, which the top takes as a no-op. */
	if (ret)
		reg_log(u->r, 3, "upstream: cannot remove outbox entry %llu: %s",
			(unsigned long long)seq, idn_strerror(ret));
	pthread_mutex_lock(&u->mu);
	u->sent++;
	pthread_mutex_unlock(&u->mu);
}

static bool handle_in(idn_bytes_t h, uint8_t (*list)[IDN_STORE_MAX_KEY], const size_t *lens,
		      int n)
{
	for (int i = 0; i < n; i++)
		if (lens[i] == h.len && memcmp(list[i], h.p, h.len) == 0)
			return true;
	return false;
}

static void *sender_main(void *arg)
{
	reg_upstream_t *u = arg;
	idn_registry_t *r = u->r;
	int retry_max = r->o.upstream_retry_max > 0 ? r->o.upstream_retry_max : 300;
	/* A refused entry stays; later ones for other handles go on in this
	 * round (those for the same handle wait: their order matters). */
	int nblocked = 0, cycles = 0;
	uint64_t after = 0;
	while (!atomic_load(&u->stop)) {
		idn_outbox_entry_t e;
		int ret = idn_store_outbox_peek(r->o.store, after, &e, u->body, IDN_OUTBOX_MAX_BODY);
		if (ret == IDN_ENOTFOUND && after == 0) {
			wait_for(u, 3600, true);
			continue;
		}
		if (ret == IDN_ENOTFOUND) {
			/* The round ends with refused entries left: try again later. */
			after = 0;
			nblocked = 0;
			wait_for(u, retry_max, false);
			continue;
		}
		if (ret) {
			set_error(u, RES_REFUSED, "outbox: %s", idn_strerror(ret));
			wait_for(u, retry_max, false);
			continue;
		}
		idn_bytes_t h = entry_handle(&e);
		if (handle_in(h, u->blocked, u->blen, nblocked)) {
			after = e.seq;
			continue;
		}
		switch (deliver(u, &e)) {
		case RES_DONE:
			remove_entry(u, e.seq);
			cycles = 0;
			break;
		case RES_REFUSED:
			if (nblocked == MAX_BLOCKED) {
				after = UINT64_MAX; /* ends the round */
				break;
			}
			memcpy(u->blocked[nblocked], h.p, h.len);
			u->blen[nblocked++] = h.len;
			after = e.seq;
			break;
		case RES_AUTH_REFUSED:
			/* Nothing will pass with this identity: wait long, then the
			 * next address (another top may know us). */
			advance(u);
			wait_for(u, retry_max, false);
			break;
		default:
			/* Every address in turn; after a full turn, back off. */
			if (advance(u)) {
				int d = cycles < 20 ? 1 << cycles : retry_max;
				cycles++;
				wait_for(u, d < retry_max ? d : retry_max, false);
			}
			break;
		}
	}
	disconnect(u);
	return NULL;
}

int reg_upstream_start(idn_registry_t *r)
{
	if (!r->up_enabled || r->up)
		return IDN_OK;
	reg_upstream_t *u = calloc(1, sizeof(*u));
	if (!u)
		return IDN_ENOMEM;
	u->r = r;
	int ret = up_targets_parse(r->o.upstream, u->tg, &u->ntg);
	if (ret) {
		reg_log(r, 3, "upstream: '%s' is not a list of HOST:PORT", r->o.upstream);
		free(u);
		return ret;
	}
	char id[IDN_ID_MAX_HANDLE + 16];
	reg_identity_text(&r->up_id, id, sizeof(id));
	ret = idn_auth_parse_id(&u->auth, id);
	if (!ret)
		ret = idn_auth_load_key(&u->auth, r->o.upstream_key ? r->o.upstream_key : "");
	if (ret) {
		reg_log(r, 3, "upstream: key %s for %s: %s", r->o.upstream_key ? r->o.upstream_key : "",
			id, idn_strerror(ret));
		idn_auth_free(&u->auth);
		free(u);
		return ret;
	}
	u->body = malloc(IDN_OUTBOX_MAX_BODY);
	u->req = malloc(IDN_OUTBOX_MAX_BODY + IDN_REQ_OVERHEAD);
	ret = u->body && u->req ? IDN_OK : IDN_ENOMEM;
	/* c-ares' global state: set up once here, on the starting thread. */
	if (!ret && ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		ret = IDN_ENOMEM;
	else if (!ret && (ret = up_dns_new(&u->dns)))
		ares_library_cleanup();
	if (ret) {
		idn_auth_free(&u->auth);
		free(u->body);
		free(u->req);
		free(u);
		return ret;
	}
	pthread_mutex_init(&u->mu, NULL);
	pthread_cond_init(&u->cond, NULL);
	int rc = pthread_create(&u->thread, NULL, sender_main, u);
	if (rc) {
		up_dns_free(u->dns);
		ares_library_cleanup();
		idn_auth_free(&u->auth);
		free(u->body);
		free(u->req);
		free(u);
		return -rc;
	}
	r->up = u;
	return IDN_OK;
}

void reg_upstream_kick(idn_registry_t *r)
{
	reg_upstream_t *u = r->up;
	if (!u)
		return;
	pthread_mutex_lock(&u->mu);
	u->kicked = true;
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->mu);
}

void reg_upstream_stop(idn_registry_t *r)
{
	reg_upstream_t *u = r->up;
	if (!u)
		return;
	pthread_mutex_lock(&u->mu);
	atomic_store(&u->stop, true);
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->mu);
	pthread_join(u->thread, NULL);
	r->up = NULL;
	up_dns_free(u->dns);
	ares_library_cleanup();
	idn_auth_free(&u->auth);
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->cond);
	free(u->body);
	free(u->req);
	free(u);
}

void idn_registry_outbox_stats(idn_registry_t *r, idn_outbox_stats_t *st)
{
	memset(st, 0, sizeof(*st));
	uint32_t oldest = 0;
	if (idn_store_outbox_stat(r->o.store, &st->length, &oldest) == IDN_OK && oldest) {
		uint32_t now = (uint32_t)time(NULL);
		st->oldest_age = now > oldest ? now - oldest : 0;
	}
	/* r->up changes only in start/stop, on the thread that owns r. */
	reg_upstream_t *u = r->up;
	if (!u)
		return;
	pthread_mutex_lock(&u->mu);
	st->sent = u->sent;
	st->refused = u->refused;
	st->failures = u->failures;
	st->last_error_time = u->last_error_time;
	snprintf(st->last_error, sizeof(st->last_error), "%s", u->last_error);
	snprintf(st->upstream, sizeof(st->upstream), "%s", u->in_use);
	pthread_mutex_unlock(&u->mu);
}
