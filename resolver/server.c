/* server.c - listener workers: sockets with SO_REUSEPORT, one event loop per thread, start and stop. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/thread.h>

#include "resolver/loop_call.h"
#include "resolver/worker.h"

void srv_log(struct idn_server *s, int level, const char *fmt, ...)
{
	if (!s->opts.log)
		return;
	va_list ap;
	va_start(ap, fmt);
	s->opts.log(level, fmt, ap);
	va_end(ap);
}

static void addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	buf[0] = 0;
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
			  (socklen_t)len);
}

/* Hostile input must not become a log flood: at most 5 lines a second per
 * worker, with a count of what was left out. */
void worker_log_bad(worker_t *w, const struct sockaddr *from, const char *what)
{
	uint32_t now = w->q.now;
	if (now != w->log_second) {
		if (w->log_suppressed)
			srv_log(w->srv, IDN_LOG_NOTICE, "worker %d: %llu more bad requests not logged",
				w->id, (unsigned long long)w->log_suppressed);
		w->log_second = now;
		w->log_count = 0;
		w->log_suppressed = 0;
	}
	if (w->log_count >= 5) {
		w->log_suppressed++;
		return;
	}
	w->log_count++;
	char a[INET6_ADDRSTRLEN];
	addr_text(from, a, sizeof(a));
	srv_log(w->srv, IDN_LOG_NOTICE, "bad request from %s: %s", a, what);
}

void worker_publish(worker_t *w)
{
	/* Every field, so counters added to idn_query_stats_t are published too. */
	uint64_t v[IDN_QSTATS_WORDS];
	memcpy(v, &w->q.stats, sizeof(v));
	for (size_t i = 0; i < IDN_QSTATS_WORDS; i++)
		atomic_store_explicit(&w->pub[i], v[i], memory_order_relaxed);
}

void idn_server_stats(idn_server_t *s, idn_query_stats_t *sum)
{
	uint64_t v[IDN_QSTATS_WORDS] = { 0 };
	for (int i = 0; i < s->nworkers; i++) {
		worker_t *w = s->workers[i];
		for (size_t j = 0; j < IDN_QSTATS_WORDS; j++)
			v[j] += atomic_load_explicit(&w->pub[j], memory_order_relaxed);
	}
	memcpy(sum, v, sizeof(v));
}

uint64_t idn_server_tcp_conns(idn_server_t *s)
{
	uint64_t n = 0;
	for (int i = 0; s && i < s->nworkers; i++) {
		int c = __atomic_load_n(&s->workers[i]->tcp_conns, __ATOMIC_RELAXED);
		n += c > 0 ? (uint64_t)c : 0;
	}
	return n;
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static uint16_t get_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

static int bind_socket(idn_server_t *s, int type, int *fdout)
{
	int fd = socket(s->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Every worker binds its own socket; the kernel spreads datagrams and
	 * connections across them by source hash. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (s->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (type == SOCK_DGRAM) {
		int sz = 4 << 20;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	if (bind(fd, (struct sockaddr *)&s->addr, s->addrlen) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (type == SOCK_STREAM && listen(fd, 1024) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	*fdout = fd;
	return IDN_OK;
}

/* Bind TCP and UDP on one port; with port 0 the kernel picks it for TCP
 * and UDP follows (retried if that UDP port happens to be taken). */
static int bind_pair(idn_server_t *s, int *tcp, int *udp)
{
	bool ephemeral = get_port(&s->addr) == 0;
	for (int attempt = 0; attempt < 32; attempt++) {
		int ret = bind_socket(s, SOCK_STREAM, tcp);
		if (ret)
			return ret;
		if (ephemeral) {
			struct sockaddr_storage got;
			socklen_t gl = sizeof(got);
			getsockname(*tcp, (struct sockaddr *)&got, &gl);
			set_port(&s->addr, get_port(&got));
		}
		ret = bind_socket(s, SOCK_DGRAM, udp);
		if (ret == IDN_OK)
			return IDN_OK;
		close(*tcp);
		if (!ephemeral || ret != -EADDRINUSE)
			return ret;
		set_port(&s->addr, 0);
	}
	return -EADDRINUSE;
}

static void worker_free(worker_t *w)
{
	if (!w)
		return;
	if (w->quiesce_ev)
		event_free(w->quiesce_ev);
	udp_teardown(w);
	tcp_teardown(w);
	if (w->base)
		event_base_free(w->base);
	idn_reader_free(w->reader);
	idn_ratelimit_free(w->rl);
	free(w->scratch);
	free(w);
}

static int worker_new(idn_server_t *s, int id, worker_t **out)
{
	worker_t *w = calloc(1, sizeof(*w));
	if (!w)
		return IDN_ENOMEM;
	w->srv = s;
	w->id = id;
	w->idle_timeout = s->opts.tcp_idle_timeout;
	w->udp_fd = w->tcp_fd = -1;
	int ret = IDN_ENOMEM;
	w->scratch = malloc(SCRATCH_LEN);
	w->base = event_base_new();
	if (!w->scratch || !w->base)
		goto fail;
	ret = idn_reader_new(s->opts.store, &w->reader);
	if (ret)
		goto fail;
	/* Per worker: no locks on the request path. A source whose requests
	 * the kernel spreads over several workers (new source ports) gets up
	 * to that many times the rate; one socket's flood stays on one. */
	idn_ratelimit_opts_t rlo = {
		.rate = { (uint32_t)s->opts.rate_limit, (uint32_t)s->opts.write_rate_limit },
		.burst = { (uint32_t)s->opts.rate_burst, (uint32_t)s->opts.write_rate_burst },
		.answers = (uint32_t)s->opts.rate_limit_answers,
	};
	if ((ret = idn_ratelimit_new(&rlo, &w->rl)))
		goto fail;
	idn_query_init(&w->q, w->reader, s->opts.info, IDN_TR_UDP);
	w->q.dispatch = s->opts.dispatch;
	w->q.recurse = s->opts.recurse;
	w->q.rcache = s->opts.recurse ? s->opts.rcache : NULL;
	if (id == 0)
		ret = bind_pair(s, &w->tcp_fd, &w->udp_fd);
	else if ((ret = bind_socket(s, SOCK_STREAM, &w->tcp_fd)) == IDN_OK)
		ret = bind_socket(s, SOCK_DGRAM, &w->udp_fd);
	if (ret)
		goto fail;
	if ((ret = udp_setup(w)) || (ret = tcp_setup(w)))
		goto fail;
	*out = w;
	return IDN_OK;
fail:
	worker_free(w);
	return ret;
}

int idn_server_new(const idn_server_opts_t *opts, idn_server_t **out)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, (void (*)(void))evthread_use_pthreads);

	if (opts->workers < 1 || !opts->store || !opts->info)
		return IDN_EINVAL;
	idn_server_t *s = calloc(1, sizeof(*s));
	if (!s)
		return IDN_ENOMEM;
	s->opts = *opts;
	if (s->opts.tcp_idle_timeout <= 0)
		s->opts.tcp_idle_timeout = 60;
	if (s->opts.tcp_max_conns <= 0)
		s->opts.tcp_max_conns = 1024;
	if (s->opts.udp_reassembly_timeout <= 0)
		s->opts.udp_reassembly_timeout = 5;
	if (s->opts.udp_max_answer <= 0)
		s->opts.udp_max_answer = 4 * IDN_UDP_CHUNK;
	if (s->opts.max_request <= 0 || s->opts.max_request > IDN_MAX_MESSAGE_LEN)
		s->opts.max_request = IDN_MAX_MESSAGE_LEN;
	if (s->opts.tcp_max_per_address <= 0)
		s->opts.tcp_max_per_address = 256;
	if (s->opts.max_connections <= 0)
		s->opts.max_connections = 16384;
	if (s->opts.tcp_slow_timeout <= 0)
		s->opts.tcp_slow_timeout = 10;
	if (s->opts.rate_limit < 0 || s->opts.write_rate_limit < 0 || s->opts.rate_burst < 0 ||
	    s->opts.write_rate_burst < 0 || s->opts.rate_limit_answers < 0) {
		free(s);
		return IDN_EINVAL;
	}
	int ret = idn_parse_hostport(opts->listen, 2641, &s->addr, &s->addrlen);
	if (ret)
		goto fail;
	ret = idn_connlimit_new((uint32_t)s->opts.tcp_max_per_address,
				(uint32_t)s->opts.max_connections, &s->conns);
	if (ret)
		goto fail;
	s->workers = calloc((size_t)opts->workers, sizeof(*s->workers));
	if (!s->workers) {
		ret = IDN_ENOMEM;
		goto fail;
	}
	for (int i = 0; i < opts->workers; i++) {
		ret = worker_new(s, i, &s->workers[i]);
		if (ret)
			goto fail;
		s->nworkers++;
	}
	s->port = get_port(&s->addr);
	*out = s;
	return IDN_OK;
fail:
	idn_server_free(s);
	return ret;
}

uint16_t idn_server_port(const idn_server_t *s)
{
	return s->port;
}

static void *worker_main(void *arg)
{
	worker_t *w = arg;
	event_base_dispatch(w->base);
	return NULL;
}

int idn_server_start(idn_server_t *s)
{
	/* Jobs that came back while stopped are handled once the loop runs. */
	for (int i = 0; i < s->nworkers; i++)
		jobs_set_stopped(s->workers[i], false);
	for (int i = 0; i < s->nworkers; i++) {
		int rc = pthread_create(&s->workers[i]->thread, NULL, worker_main, s->workers[i]);
		if (rc) {
			/* Stop the ones already running before reporting. */
			for (int j = 0; j < i; j++) {
				event_base_loopbreak(s->workers[j]->base);
				pthread_join(s->workers[j]->thread, NULL);
			}
			return -rc;
		}
	}
	s->started = true;
	return IDN_OK;
}

/* On the worker's thread, between two callbacks: no request sees half a change. */
static void set_live(void *target, const void *arg)
{
	worker_t *w = target;
	const idn_server_live_t *l = arg;
	if (l->info)
		w->q.info = l->info;
	if (l->tcp_idle_timeout > 0)
		w->idle_timeout = l->tcp_idle_timeout;
}

int idn_server_set_live(idn_server_t *s, const idn_server_live_t *live, int timeout_ms)
{
	struct event_base *bases[s->nworkers > 0 ? s->nworkers : 1];
	void *targets[s->nworkers > 0 ? s->nworkers : 1];
	for (int i = 0; i < s->nworkers; i++) {
		bases[i] = s->workers[i]->base;
		targets[i] = s->workers[i];
	}
	return loop_call_all(bases, targets, s->nworkers, s->started, set_live, live, sizeof(*live),
			     timeout_ms);
}

/* The worker's thread, every QUIESCE_TICK_MS while quiescing. */
#define QUIESCE_TICK_MS 10

static void on_quiesce_tick(evutil_socket_t fd, short what, void *arg)
{
	worker_t *w = arg;
	bool idle = tcp_quiesce_tick(w) && w->jobs_out == 0;
	atomic_store(&w->drained, idle ? 1 : 0);
}

static void on_quiesce(evutil_socket_t fd, short what, void *arg)
{
	worker_t *w = arg;
	if (w->quiescing)
		return;
	w->quiescing = true;
	/* Closing the listening socket (not only disabling it) makes new
	 * connections fail at once instead of waiting in the backlog; the UDP
	 * socket stays open for answers to jobs still out, but is not read. */
	if (w->listener)
		evconnlistener_free(w->listener);
	w->listener = NULL;
	if (w->udp_ev)
		event_del(w->udp_ev);
	tcp_quiesce(w);
	w->quiesce_ev = event_new(w->base, -1, EV_PERSIST, on_quiesce_tick, w);
	struct timeval tick = { 0, QUIESCE_TICK_MS * 1000 };
	if (!w->quiesce_ev || event_add(w->quiesce_ev, &tick) != 0)
		atomic_store(&w->drained, 1); /* cannot watch: let the stop go on */
	else
		on_quiesce_tick(-1, 0, w);
}

int idn_server_quiesce(idn_server_t *s, int timeout_ms, unsigned *left)
{
	if (left)
		*left = 0;
	if (!s || !s->started)
		return IDN_OK;
	struct timeval now = { 0, 0 };
	for (int i = 0; i < s->nworkers; i++)
		if (event_base_once(s->workers[i]->base, -1, EV_TIMEOUT, on_quiesce,
				    s->workers[i], &now) != 0)
			atomic_store(&s->workers[i]->drained, 1);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		unsigned busy = 0;
		for (int i = 0; i < s->nworkers; i++)
			busy += atomic_load(&s->workers[i]->drained) ? 0 : 1;
		if (busy == 0)
			return IDN_OK;
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= timeout_ms) {
			if (left)
				*left = busy;
			return IDN_ETIMEDOUT;
		}
		struct timespec pause = { 0, QUIESCE_TICK_MS * 1000000L };
		nanosleep(&pause, NULL);
	}
}

void idn_server_stop(idn_server_t *s)
{
	if (!s || !s->started)
		return;
	/* Requests already read are answered inside the callback that read
	 * them, so leaving the loop between callbacks loses none of them. */
	for (int i = 0; i < s->nworkers; i++)
		event_base_loopexit(s->workers[i]->base, NULL);
	for (int i = 0; i < s->nworkers; i++)
		pthread_join(s->workers[i]->thread, NULL);
	/* From now on a job that comes back is only queued, for free(). */
	for (int i = 0; i < s->nworkers; i++)
		jobs_set_stopped(s->workers[i], true);
	s->started = false;
}

void idn_server_free(idn_server_t *s)
{
	if (!s)
		return;
	idn_server_stop(s);
	for (int i = 0; i < s->nworkers; i++)
		worker_free(s->workers[i]);
	free(s->workers);
	idn_connlimit_free(s->conns);
	free(s);
}
