/* resolve.c - the top-level node's addresses: parsing the configured list and resolving names asynchronously with c-ares, cached for their TTL; waited for (the outbox sender) or driven by an event loop (the recursor). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#include "client/addr.h"
#include "proto/errcode.h"
#include "client/resolve.h"

/* Names without a TTL (/etc/hosts) are read again after this long; TTLs
 * are capped so a wrong answer does not stick for days. */
#define TTL_NONE 60
#define TTL_MAX 86400

struct up_dns {
	ares_channel ch;
};

int up_targets_parse(const char *list, up_target_t *t, int *n)
{
	*n = 0;
	const char *p = list;
	while (p && *p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len > 0 && *p == ' ')
			p++, len--;
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len > 0) {
			if (*n == UP_MAX_TARGETS)
				return IDN_ELIMIT;
			up_target_t *g = &t[*n];
			memset(g, 0, sizeof(*g));
			const char *colon = memrchr(p, ':', len);
			if (!colon || colon == p || (size_t)(colon - p) >= sizeof(g->host))
				return IDN_EINVAL;
			char port[8];
			size_t pl = len - (size_t)(colon + 1 - p);
			if (pl == 0 || pl >= sizeof(port))
				return IDN_EINVAL;
			memcpy(port, colon + 1, pl);
			port[pl] = 0;
			char *pe;
			long pn = strtol(port, &pe, 10);
			if (*pe || pn < 1 || pn > 65535)
				return IDN_EINVAL;
			const char *h = p;
			size_t hl = (size_t)(colon - p);
			if (h[0] == '[') {
				if (hl < 3 || h[hl - 1] != ']')
					return IDN_EINVAL;
				h++;
				hl -= 2;
			}
			memcpy(g->host, h, hl);
			g->host[hl] = 0;
			g->port = (uint16_t)pn;
			/* Numeric addresses need no resolver. */
			char hp[300];
			unsigned sl;
			snprintf(hp, sizeof(hp), strchr(g->host, ':') ? "[%s]:%u" : "%s:%u", g->host,
				 g->port);
			if (idn_parse_hostport(hp, g->port, &g->addrs[0], &sl) == IDN_OK) {
				g->numeric = true;
				g->naddrs = 1;
			}
			(*n)++;
		}
		p = end ? end + 1 : NULL;
	}
	return *n ? IDN_OK : IDN_EINVAL;
}

int up_dns_new(up_dns_t **out)
{
	up_dns_t *d = calloc(1, sizeof(*d));
	if (!d)
		return IDN_ENOMEM;
	struct ares_options o = { .timeout = 2000, .tries = 2 };
	if (ares_init_options(&d->ch, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES) != ARES_SUCCESS) {
		free(d);
		return IDN_ENOMEM;
	}
	*out = d;
	return IDN_OK;
}

void up_dns_free(up_dns_t *d)
{
	if (!d)
		return;
	ares_destroy(d->ch);
	free(d);
}

typedef struct {
	up_target_t *t;
	bool done;
	int status;
	/* asynchronous queries (heap-allocated, freed when answered) */
	up_dns_done_fn fn;
	void *arg;
} query_t;

static void note_result(up_target_t *t, bool done, int status);

static void async_done(query_t *q)
{
	up_target_t *t = q->t;
	t->resolving = false;
	/* ARES_EDESTRUCTION: up_dns_free is running; its owner is going away
	 * and must not be called back half torn down. */
	if (q->status != ARES_EDESTRUCTION) {
		note_result(t, true, q->status);
		q->fn(q->arg, t);
	}
	free(q);
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	query_t *q = arg;
	up_target_t *t = q->t;
	q->done = true;
	q->status = status;
	if (status != ARES_SUCCESS || !res) {
		if (res)
			ares_freeaddrinfo(res);
		if (q->fn)
			async_done(q);
		return;
	}
	int n = 0, ttl = TTL_MAX;
	for (struct ares_addrinfo_node *a = res->nodes; a && n < UP_MAX_ADDRS; a = a->ai_next) {
		size_t al = a->ai_family == AF_INET ? sizeof(struct sockaddr_in)
			    : a->ai_family == AF_INET6 ? sizeof(struct sockaddr_in6) : 0;
		if (!al || !a->ai_addr || a->ai_addrlen < al)
			continue;
		memset(&t->addrs[n], 0, sizeof(t->addrs[n]));
		memcpy(&t->addrs[n], a->ai_addr, al);
		/* c-ares gives the port asked for; set it anyway. */
		if (a->ai_family == AF_INET)
			((struct sockaddr_in *)&t->addrs[n])->sin_port = htons(t->port);
		else
			((struct sockaddr_in6 *)&t->addrs[n])->sin6_port = htons(t->port);
		if (a->ai_ttl > 0 && a->ai_ttl < ttl)
			ttl = a->ai_ttl;
		if (a->ai_ttl <= 0 && ttl == TTL_MAX)
			ttl = TTL_NONE;
		n++;
	}
	ares_freeaddrinfo(res);
	if (n == 0)
		q->status = ARES_ENODATA;
	else {
		t->naddrs = n;
		t->expires = time(NULL) + ttl;
	}
	if (q->fn)
		async_done(q);
}

/* ARES_GETSOCK_READABLE/WRITABLE shift a signed 1 by up to 31 places,
 * which UBSan rightly rejects for the last socket; the same bits, unsigned. */
static bool sock_readable(int bits, int i)
{
	return ((unsigned)bits >> i) & 1u;
}

static bool sock_writable(int bits, int i)
{
	return ((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u;
}

/* Drive the channel until the query is done: poll its sockets with its
 * own timeout (at most 100 ms, to see *stop), then let it process. */
static void run_query(up_dns_t *d, query_t *q, int timeout_ms, atomic_bool *stop)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!q->done) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long spent = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (atomic_load(stop) || spent > timeout_ms) {
			ares_cancel(d->ch); /* calls back with ARES_ECANCELLED */
			break;
		}
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		int bits = ares_getsock(d->ch, socks, ARES_GETSOCK_MAXNUM);
		struct pollfd pfd[ARES_GETSOCK_MAXNUM];
		nfds_t n = 0;
		for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			short ev = (short)((sock_readable(bits, i) ? POLLIN : 0) |
					   (sock_writable(bits, i) ? POLLOUT : 0));
			if (ev)
				pfd[n++] = (struct pollfd){ .fd = socks[i], .events = ev };
		}
		struct timeval max = { 0, 100000 }, tv;
		struct timeval *tp = ares_timeout(d->ch, &max, &tv);
		int ms = tp ? (int)(tp->tv_sec * 1000 + tp->tv_usec / 1000) : 100;
		int r = poll(pfd, n, ms);
		if (r <= 0) {
			ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* timeouts */
			continue;
		}
		for (nfds_t i = 0; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			bool rd = pfd[i].revents & (POLLIN | POLLERR | POLLHUP);
			bool wr = pfd[i].revents & POLLOUT;
			ares_process_fd(d->ch, rd ? pfd[i].fd : ARES_SOCKET_BAD,
					wr ? pfd[i].fd : ARES_SOCKET_BAD);
		}
	}
}

int up_dns_refresh(up_dns_t *d, up_target_t *t, int timeout_ms, atomic_bool *stop)
{
	if (t->numeric)
		return IDN_OK;
	if (t->naddrs > 0 && time(NULL) < t->expires)
		return IDN_OK;
	char port[8];
	snprintf(port, sizeof(port), "%u", t->port);
	struct ares_addrinfo_hints hints = { .ai_flags = ARES_AI_NUMERICSERV,
					     .ai_family = AF_UNSPEC,
					     .ai_socktype = SOCK_STREAM };
	query_t q = { .t = t };
	ares_getaddrinfo(d->ch, t->host, port, &hints, on_addrinfo, &q);
	run_query(d, &q, timeout_ms, stop);
	note_result(t, q.done, q.status);
	return t->naddrs > 0 ? IDN_OK : IDN_ENOTFOUND;
}

static void note_result(up_target_t *t, bool done, int status)
{
	if (done && status == ARES_SUCCESS) {
		t->error[0] = 0;
		return;
	}
	snprintf(t->error, sizeof(t->error), "cannot resolve %s: %s", t->host,
		 done ? ares_strerror(status) : "timed out");
	/* Try the old addresses again in a while rather than at once. The
	 * event-loop side also waits that long before asking again for a name
	 * that never resolved, so a dead DNS server is not asked per request;
	 * the sender (which waits for each answer itself) asks again at once. */
	t->expires = time(NULL) + 10;
}

bool up_dns_refresh_async(up_dns_t *d, up_target_t *t, up_dns_done_fn done, void *arg)
{
	if (t->numeric || t->resolving || time(NULL) < t->expires)
		return false;
	query_t *q = calloc(1, sizeof(*q));
	if (!q)
		return false;
	q->t = t;
	q->fn = done;
	q->arg = arg;
	t->resolving = true;
	char port[8];
	snprintf(port, sizeof(port), "%u", t->port);
	struct ares_addrinfo_hints hints = { .ai_flags = ARES_AI_NUMERICSERV,
					     .ai_family = AF_UNSPEC,
					     .ai_socktype = SOCK_STREAM };
	/* May call back at once (/etc/hosts, a bad name): done then ran already. */
	ares_getaddrinfo(d->ch, t->host, port, &hints, on_addrinfo, q);
	return true;
}

int up_dns_fds(up_dns_t *d, int *fds, bool *rd, bool *wr)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	int bits = ares_getsock(d->ch, socks, ARES_GETSOCK_MAXNUM);
	int n = 0;
	for (int i = 0; i < ARES_GETSOCK_MAXNUM && n < UP_DNS_MAX_FDS; i++) {
		bool r = sock_readable(bits, i), w = sock_writable(bits, i);
		if (!r && !w)
			continue;
		fds[n] = socks[i];
		rd[n] = r;
		wr[n] = w;
		n++;
	}
	return n;
}

void up_dns_process(up_dns_t *d, int rfd, int wfd)
{
	ares_process_fd(d->ch, rfd < 0 ? ARES_SOCKET_BAD : rfd, wfd < 0 ? ARES_SOCKET_BAD : wfd);
}

bool up_dns_timeout(up_dns_t *d, struct timeval *tv)
{
	return ares_timeout(d->ch, NULL, tv) != NULL;
}
