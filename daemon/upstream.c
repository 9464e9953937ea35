/* upstream.c - idnoded's side of peering with the top-level node: the start-up push and the outbox's log lines. */
#include <event2/event.h>

#include "daemon/log.h"
#include "daemon/upstream.h"

int idn_daemon_upstream_start(idn_registry_t *reg, const idn_node_t *node,
			      const idn_config_t *cfg)
{
	uint64_t queued = 0;
	int ret = idn_registry_upstream_sync(reg, node->admin_pub, node->admin_pub_len, &queued);
	if (ret) {
		idn_log(3, "upstream: cannot queue the node's record for %s: %s", cfg->upstream,
			idn_strerror(ret));
		return ret;
	}
	idn_outbox_stats_t st;
	idn_registry_outbox_stats(reg, &st);
	idn_log(5, "upstream: %s as %s%s; %llu queued now, %llu waiting in the outbox",
		cfg->upstream, cfg->upstream_identity[0] ? cfg->upstream_identity : "300:0.NA/",
		cfg->upstream_identity[0] ? "" : cfg->node_prefix, (unsigned long long)queued,
		(unsigned long long)st.length);
	return IDN_OK;
}

void idn_daemon_upstream_log(idn_registry_t *reg, bool final)
{
	idn_outbox_stats_t st;
	idn_registry_outbox_stats(reg, &st);
	if (!st.length && !final)
		return;
	idn_log(st.length && st.refused ? 4 : 5,
		"outbox: %llu waiting (oldest %u s), %llu sent, %llu refused, %llu failed attempts%s%s%s%s",
		(unsigned long long)st.length, st.oldest_age, (unsigned long long)st.sent,
		(unsigned long long)st.refused, (unsigned long long)st.failures,
		st.upstream[0] ? ", connected to " : "", st.upstream,
		st.last_error[0] ? "; last error: " : "", st.last_error);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	idn_daemon_upstream_log(arg, false);
}

struct event *idn_daemon_upstream_timer(struct event_base *base, idn_registry_t *reg,
					const idn_config_t *cfg)
{
	if (!cfg->upstream[0])
		return NULL;
	struct event *ev = event_new(base, -1, EV_PERSIST, on_timer, reg);
	struct timeval minute = { 60, 0 };
	if (ev)
		event_add(ev, &minute);
	return ev;
}
