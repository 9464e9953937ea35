/* recurse_dns.c - the recursor's tops: the configured upstream list (addresses and names), names resolved with c-ares driven from the recursor's own event loop, and the rotation through every address. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "client/addr.h"
#include "resolver/recurse_int.h"

/* "a:1, b:2" into r->up: a numeric address may leave out its port (2641),
 * as it always could; a name needs HOST:PORT, as the config asks. */
int rx_parse_upstream(struct idn_recursor *r, const char *list)
{
	char buf[1024];
	if (!list || !list[0])
		return IDN_OK;
	if (strlen(list) >= sizeof(buf))
		return IDN_EINVAL;
	strcpy(buf, list);
	char *save = NULL;
	for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (r->n_up == UP_MAX_TARGETS)
			return IDN_EINVAL;
		up_target_t *g = &r->up[r->n_up];
		memset(g, 0, sizeof(*g));
		struct sockaddr_storage ss;
		unsigned len;
		if (idn_parse_hostport(tok, 2641, &ss, &len) == IDN_OK) {
			g->addrs[0] = ss;
			g->naddrs = 1;
			g->numeric = true;
			snprintf(g->host, sizeof(g->host), "%s", tok);
		} else {
			int n;
			if (up_targets_parse(tok, g, &n) != IDN_OK || n != 1)
				return IDN_EINVAL;
		}
		r->n_up++;
	}
	return IDN_OK;
}

int rx_upstream_count(struct idn_recursor *r)
{
	int n = 0;
	for (int i = 0; i < r->n_up; i++)
		n += r->up[i].naddrs;
	return n;
}

bool rx_next_upstream(rjob_t *j, tx_t *t)
{
	struct idn_recursor *r = j->r;
	int n = rx_upstream_count(r);
	if (n == 0)
		return false;
	/* One index over the addresses of all tops, so a dead top (or one
	 * dead address of a name) costs one resend, not the request. */
	int i = j->next_upstream++ % n;
	for (int k = 0; k < r->n_up; k++) {
		up_target_t *g = &r->up[k];
		if (i >= g->naddrs) {
			i -= g->naddrs;
			continue;
		}
		t->udp = t->tcp = g->addrs[i];
		t->udp_len = t->tcp_len = g->addrs[i].ss_family == AF_INET6
						  ? (socklen_t)sizeof(struct sockaddr_in6)
						  : (socklen_t)sizeof(struct sockaddr_in);
		return true;
	}
	return false;
}

bool dns_pending(struct idn_recursor *r)
{
	for (int i = 0; i < r->n_up; i++)
		if (r->up[i].resolving)
			return true;
	return false;
}

static void on_dns_fd(evutil_socket_t fd, short what, void *arg);

/* Watch what the channel wants now: its sockets change with its queries,
 * so the events are made again after every step (names resolve once per
 * TTL, so this is rare). */
static void dns_rearm(struct idn_recursor *r)
{
	for (int i = 0; i < r->n_dns_ev; i++)
		event_free(r->dns_ev[i]);
	r->n_dns_ev = 0;
	int fds[UP_DNS_MAX_FDS];
	bool rd[UP_DNS_MAX_FDS], wr[UP_DNS_MAX_FDS];
	int n = up_dns_fds(r->dns, fds, rd, wr);
	for (int i = 0; i < n; i++) {
		short what = (short)((rd[i] ? EV_READ : 0) | (wr[i] ? EV_WRITE : 0) | EV_PERSIST);
		struct event *ev = event_new(r->base, fds[i], what, on_dns_fd, r);
		if (!ev)
			continue; /* the query times out instead */
		if (event_add(ev, NULL) != 0) {
			event_free(ev);
			continue;
		}
		r->dns_ev[r->n_dns_ev++] = ev;
	}
	struct timeval tv;
	if (up_dns_timeout(r->dns, &tv))
		evtimer_add(r->dns_timer, &tv);
	else
		evtimer_del(r->dns_timer);
}

static void on_dns_fd(evutil_socket_t fd, short what, void *arg)
{
	struct idn_recursor *r = arg;
	up_dns_process(r->dns, what & EV_READ ? fd : -1, what & EV_WRITE ? fd : -1);
	dns_rearm(r);
}

static void on_dns_timer(evutil_socket_t fd, short what, void *arg)
{
	struct idn_recursor *r = arg;
	up_dns_process(r->dns, -1, -1);
	dns_rearm(r);
}

/* c-ares calls back from inside ares_process_fd or even ares_getaddrinfo
 * (/etc/hosts): the waiting jobs are taken up from the loop instead, so a
 * job never runs inside c-ares or inside another job's step. */
static void on_resolved(void *arg, up_target_t *t)
{
	struct idn_recursor *r = arg;
	if (t->error[0])
		rx_log(r, t->naddrs ? IDN_LOG_WARNING : IDN_LOG_ERR, "recursion: upstream %s (%s)",
		       t->error, t->naddrs ? "keeping the addresses it had" : "no address");
	event_active(r->dns_done, EV_READ, 0);
}

static void on_dns_done(evutil_socket_t fd, short what, void *arg)
{
	struct idn_recursor *r = arg;
	bool have = rx_upstream_count(r) > 0, pending = dns_pending(r);
	const char *why = "no upstream address";
	for (int i = 0; i < r->n_up; i++)
		if (r->up[i].error[0]) {
			why = r->up[i].error;
			break;
		}
	for (rjob_t *j = r->jobs, *next; j; j = next) {
		next = j->next; /* j may be answered and freed */
		if (!j->wait_dns || (!have && pending))
			continue;
		j->wait_dns = false;
		if (have)
			rx_ask_upstream(j);
		else
			rx_failed(j, why);
	}
}

void dns_refresh(struct idn_recursor *r)
{
	if (!r->dns)
		return;
	bool started = false;
	for (int i = 0; i < r->n_up; i++)
		started |= up_dns_refresh_async(r->dns, &r->up[i], on_resolved, r);
	if (started)
		dns_rearm(r);
}

int dns_setup(struct idn_recursor *r)
{
	bool names = false;
	for (int i = 0; i < r->n_up; i++)
		names |= !r->up[i].numeric;
	if (!names)
		return IDN_OK;
	int ret = up_dns_new(&r->dns);
	if (ret)
		return ret;
	r->dns_timer = evtimer_new(r->base, on_dns_timer, r);
	r->dns_done = event_new(r->base, -1, 0, on_dns_done, r);
	if (!r->dns_timer || !r->dns_done)
		return IDN_ENOMEM;
	/* Resolve now, so the first request finds the addresses (the loop
	 * thread has not started yet, so this thread may drive the channel). */
	dns_refresh(r);
	return IDN_OK;
}

void dns_teardown(struct idn_recursor *r)
{
	for (int i = 0; i < r->n_dns_ev; i++)
		event_free(r->dns_ev[i]);
	r->n_dns_ev = 0;
	/* Pending queries end with ARES_EDESTRUCTION, which does not call back. */
	up_dns_free(r->dns);
	r->dns = NULL;
	if (r->dns_timer)
		event_free(r->dns_timer);
	if (r->dns_done)
		event_free(r->dns_done);
	r->dns_timer = r->dns_done = NULL;
}
