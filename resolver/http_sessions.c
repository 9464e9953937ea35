/* http_sessions.c - REST sessions of the HTTP layer (docs 8.4): a bounded, expiring table shared by the HTTP threads, and the /api/sessions API. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "proto/crypto.h"
#include "proto/json.h"
#include "resolver/http_auth.h"

/*
 * A session id is a bearer secret (128 random bits): whoever sends it acts
 * as the identity bound to it. Sessions waiting for their answer are kept
 * apart from authenticated ones, with their own bound and a shorter idle
 * time, so a flood of 401s can only push out other waiting sessions, never
 * a logged-in client. The table is process-wide (one per process, shared
 * by every HTTP thread and server), allocated on first use.
 */

#define BUCKETS 65536
#define MAX_WAITING 20000
#define MAX_AUTHED 100000
#define IDLE_WAITING 300      /* seconds to answer a challenge */
#define IDLE_AUTHED 1800      /* 30 minutes without a request */

typedef struct sess {
	struct sess *next;        /* bucket chain */
	struct sess *older, *newer;
	uint32_t used;
	http_sess_t s;
} sess_t;

static struct {
	pthread_mutex_t mu;
	sess_t **bucket;
	sess_t *oldest[2], *newest[2]; /* [0] waiting, [1] authenticated; by last use */
	unsigned count[2];
} T = { .mu = PTHREAD_MUTEX_INITIALIZER };

static const unsigned max_of[2] = { MAX_WAITING, MAX_AUTHED };
static const uint32_t idle_of[2] = { IDLE_WAITING, IDLE_AUTHED };

static unsigned bucket_of(const uint8_t *id)
{
	uint32_t h;
	memcpy(&h, id, sizeof(h)); /* random already */
	return h % BUCKETS;
}

static void list_del(sess_t *e)
{
	int k = e->s.authed;
	if (e->older)
		e->older->newer = e->newer;
	else
		T.oldest[k] = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		T.newest[k] = e->older;
	T.count[k]--;
}

static void list_add(sess_t *e)
{
	int k = e->s.authed;
	e->newer = NULL;
	e->older = T.newest[k];
	if (T.newest[k])
		T.newest[k]->newer = e;
	else
		T.oldest[k] = e;
	T.newest[k] = e;
	T.count[k]++;
}

static sess_t *find(const uint8_t *id, sess_t ***link)
{
	sess_t **pp = &T.bucket[bucket_of(id)];
	while (*pp && memcmp((*pp)->s.id, id, HTTP_SESS_ID) != 0)
		pp = &(*pp)->next;
	if (link)
		*link = pp;
	return *pp;
}

static void drop(sess_t *e)
{
	sess_t **pp;
	if (find(e->s.id, &pp) == e)
		*pp = e->next;
	list_del(e);
	free(e);
}

/* Expired sessions go, oldest first, and the oldest beyond the bound. Locked. */
static void expire(uint32_t now)
{
	for (int k = 0; k < 2; k++)
		while (T.oldest[k] && (now - T.oldest[k]->used > idle_of[k] ||
				       T.count[k] >= max_of[k]))
			drop(T.oldest[k]);
}

static bool table_ready(void)
{
	if (!T.bucket)
		T.bucket = calloc(BUCKETS, sizeof(*T.bucket));
	return T.bucket != NULL;
}

int http_sess_new(http_sess_t *out)
{
	sess_t *e = calloc(1, sizeof(*e));
	if (!e)
		return IDN_ENOMEM;
	if (idn_random(e->s.nonce, sizeof(e->s.nonce)) != IDN_OK) {
		free(e);
		return IDN_ECRYPTO;
	}
	uint32_t now = (uint32_t)time(NULL);
	e->used = now;
	pthread_mutex_lock(&T.mu);
	int ret = table_ready() ? IDN_OK : IDN_ENOMEM;
	if (ret == IDN_OK) {
		expire(now);
		do {
			if (idn_random(e->s.id, sizeof(e->s.id)) != IDN_OK)
				ret = IDN_ECRYPTO;
		} while (ret == IDN_OK && find(e->s.id, NULL));
	}
	if (ret == IDN_OK) {
		unsigned b = bucket_of(e->s.id);
		e->next = T.bucket[b];
		T.bucket[b] = e;
		list_add(e);
		*out = e->s;
	}
	pthread_mutex_unlock(&T.mu);
	if (ret)
		free(e);
	return ret;
}

/* Locked: the live session (expired ones are dropped first), touched. */
static sess_t *live(const uint8_t *id)
{
	if (!T.bucket)
		return NULL;
	uint32_t now = (uint32_t)time(NULL);
	expire(now);
	sess_t *e = find(id, NULL);
	if (e) {
		list_del(e);
		e->used = now;
		list_add(e);
	}
	return e;
}

bool http_sess_get(const uint8_t *id, http_sess_t *out)
{
	pthread_mutex_lock(&T.mu);
	sess_t *e = live(id);
	if (e)
		*out = e->s;
	pthread_mutex_unlock(&T.mu);
	return e != NULL;
}

bool http_sess_bind(const uint8_t *id, const idn_identity_t *who)
{
	pthread_mutex_lock(&T.mu);
	sess_t *e = live(id);
	if (e) {
		list_del(e);
		e->s.authed = true;
		e->s.who = *who;
		list_add(e);
		/* Over the bound, the oldest logged-in session makes room. */
		if (T.count[1] > MAX_AUTHED)
			drop(T.oldest[1]);
	}
	pthread_mutex_unlock(&T.mu);
	return e != NULL;
}

void http_sess_del(const uint8_t *id)
{
	pthread_mutex_lock(&T.mu);
	sess_t *e = T.bucket ? find(id, NULL) : NULL;
	if (e)
		drop(e);
	pthread_mutex_unlock(&T.mu);
}

void http_sess_id_text(const uint8_t *id, char *buf, size_t len)
{
	char *s = idn_base64_encode(id, HTTP_SESS_ID);
	snprintf(buf, len, "%s", s ? s : "");
	free(s);
}

bool http_sess_id_parse(const char *s, uint8_t *id)
{
	uint8_t *d = NULL;
	long n = *s && strlen(s) < 64 ? idn_base64_decode(s, strlen(s), &d) : -1;
	bool ok = n == HTTP_SESS_ID;
	if (ok)
		memcpy(id, d, HTTP_SESS_ID);
	free(d);
	return ok;
}

/* ---- the API ---- */

static json_t *sess_json(const http_sess_t *s, bool with_auth)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	char sid[64], id[IDN_ID_MAX_HANDLE + 16];
	http_sess_id_text(s->id, sid, sizeof(sid));
	char *nonce = idn_base64_encode(s->nonce, sizeof(s->nonce));
	json_object_set_new(o, "sessionId", json_string(sid));
	json_object_set_new(o, "nonce", json_string(nonce ? nonce : ""));
	free(nonce);
	if (with_auth) {
		json_object_set_new(o, "authenticated", json_boolean(s->authed));
		if (s->authed) {
			http_identity_text(&s->who, id, sizeof(id));
			json_object_set_new(o, "id", json_stringn_nocheck(id, strlen(id)));
		}
	}
	return o;
}

/* The session of `Authorization: Handle sessionId=".."`, with its
 * parameters (and those of a JSON body, for PUT) in h. */
static bool this_session(http_ctx_t *c, http_hauth_t *h, uint8_t *id, http_sess_t *s)
{
	const char *a = http_req_header(c, "Authorization");
	if (a && strncasecmp(a, "Handle", 6) == 0 && !http_hauth_parse(a + 6, h))
		memset(h, 0, sizeof(*h));
	if (c->method == EVHTTP_REQ_PUT) {
		json_t *b = http_body_json(c, true);
		if (c->replied)
			return false;
		struct {
			const char *k;
			char *dst;
			size_t cap;
		} f[] = {
			{ "sessionId", h->session, sizeof(h->session) }, { "id", h->id, sizeof(h->id) },
			{ "type", h->type, sizeof(h->type) }, { "cnonce", h->cnonce, sizeof(h->cnonce) },
			{ "alg", h->alg, sizeof(h->alg) },
			{ "signature", h->signature, sizeof(h->signature) },
			{ "salt", h->salt, sizeof(h->salt) },
		};
		for (size_t i = 0; b && i < sizeof(f) / sizeof(f[0]); i++) {
			const char *v = json_string_value(json_object_get(b, f[i].k));
			if (v && strlen(v) < f[i].cap) {
				/* `id` comes without percent-encoding in JSON. */
				if (f[i].dst == h->id) {
					size_t o = 0;
					for (const char *p = v; *p && o + 4 < f[i].cap; p++)
						o += (size_t)snprintf(h->id + o, f[i].cap - o,
								      *p == '%' ? "%%25" : "%c", *p);
				} else {
					snprintf(f[i].dst, f[i].cap, "%s", v);
				}
			}
		}
		json_t *it = b ? json_object_get(b, "iterations") : NULL;
		json_t *ln = b ? json_object_get(b, "length") : NULL;
		if (json_is_integer(it))
			snprintf(h->iterations, sizeof(h->iterations), "%lld",
				 (long long)json_integer_value(it));
		if (json_is_integer(ln))
			snprintf(h->length, sizeof(h->length), "%lld",
				 (long long)json_integer_value(ln));
		json_decref(b);
	}
	if (!h->session[0] || !http_sess_id_parse(h->session, id) || !http_sess_get(id, s)) {
		http_auth_set_error("Unknown or expired session");
		http_reply_error(c, 401, IDN_RC_AUTHENTICATION_NEEDED, "Unknown or expired session");
		return false;
	}
	return true;
}

void http_sessions(http_ctx_t *c)
{
	if (!c->tls) {
		http_reply_error(c, 403, IDN_RC_AUTHENTICATION_NEEDED,
				 "Authentication needs HTTPS");
		return;
	}
	http_sess_t s;
	if (c->method == EVHTTP_REQ_POST) {
		/* A Basic credential logs the new session in at once. */
		const idn_identity_t *who;
		const char *a = http_req_header(c, "Authorization");
		bool basic = a && strncasecmp(a, "Basic ", 6) == 0;
		if (!http_auth_request(c, &who))
			return;
		if (http_sess_new(&s) != IDN_OK) {
			http_reply_error(c, 503, IDN_RC_SERVER_TOO_BUSY, "Cannot open a session now");
			return;
		}
		if (basic && who && http_sess_bind(s.id, who)) {
			s.authed = true;
			s.who = *who;
		}
		http_reply_json(c, 201, sess_json(&s, s.authed));
		return;
	}
	if (strcmp(c->rest, "this") != 0) {
		http_reply_error(c, 404, IDN_RC_PROTOCOL_ERROR, "Unknown session: use /api/sessions/this");
		return;
	}
	http_hauth_t *h = calloc(1, sizeof(*h));
	uint8_t id[HTTP_SESS_ID];
	if (!h) {
		http_reply_error(c, 503, IDN_RC_SERVER_TOO_BUSY, "Out of memory");
		return;
	}
	if (!this_session(c, h, id, &s)) {
		free(h);
		return;
	}
	if (c->method == EVHTTP_REQ_DELETE) {
		http_sess_del(id);
		http_reply_raw(c, 204, NULL, NULL, 0);
	} else if (c->method == EVHTTP_REQ_PUT && h->signature[0]) {
		idn_identity_t who;
		const char *err = NULL;
		if (http_hauth_verify(c, h, s.nonce, &who, &err) == IDN_OK && http_sess_bind(id, &who)) {
			s.authed = true;
			s.who = who;
			http_reply_json(c, 200, sess_json(&s, true));
		} else {
			json_t *o = sess_json(&s, true);
			if (o) {
				json_object_set_new(o, "authenticated", json_false());
				json_object_del(o, "id");
				json_object_set_new(o, "error", json_string(err ? err : "Identity not verified"));
			}
			http_auth_set_error(err);
			http_reply_json(c, 401, o);
		}
	} else {
		http_reply_json(c, 200, sess_json(&s, true));
	}
	free(h);
}
