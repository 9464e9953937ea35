/* upstream.h - idnoded's side of peering with the top-level node: the start-up push and the outbox's log lines. */
#ifndef IDN_DAEMON_UPSTREAM_H
#define IDN_DAEMON_UPSTREAM_H

#include <stdbool.h>

#include "daemon/config.h"
#include "daemon/node.h"
#include "registry/registry.h"

struct event_base;
struct event;

/* After the registry started, with upstream set: queue the node's own
 * prefix record for the top when it changed since it was last queued, and
 * the enterprise prefixes this upstream never got. Logs what it did. */
int idn_daemon_upstream_start(idn_registry_t *reg, const idn_node_t *node,
			      const idn_config_t *cfg);
/* A timer that logs the outbox's length and age every minute while it is
 * not empty (NULL when upstream is not set); free with event_free(). */
struct event *idn_daemon_upstream_timer(struct event_base *base, idn_registry_t *reg,
					const idn_config_t *cfg);
/* One log line with the outbox's figures (`final`: at stop, also when empty). */
void idn_daemon_upstream_log(idn_registry_t *reg, bool final);

#endif
