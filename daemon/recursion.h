/* recursion.h - idnoded's recursion: the cache and the recursor built from the configuration, in the server's shutdown order. */
#ifndef IDN_DAEMON_RECURSION_H
#define IDN_DAEMON_RECURSION_H

#include "daemon/config.h"
#include "resolver/recurse.h"
#include "resolver/server.h"

typedef struct {
	idn_rcc_t *cache;
	idn_recursor_t *rec;
	idn_dispatch_t dispatch;
	bool stopped;             /* stop ran (it is called on both exit paths) */
} idn_daemon_recursion_t;

/* With `recursion = yes`: the cache and the recursor, wired into sopts
 * (recurse, rcache). Upstream entries that are not numeric addresses are
 * logged and left out. Returns IDN_OK (also when recursion is off) or an
 * idn_error code. */
int idn_daemon_recursion_init(idn_daemon_recursion_t *x, const idn_config_t *cfg,
			      idn_store_t *store, const idn_server_info_t *info,
			      idn_server_opts_t *sopts);
int idn_daemon_recursion_start(idn_daemon_recursion_t *x);
/* After idn_server_stop(): answers what the recursor still holds. */
void idn_daemon_recursion_stop(idn_daemon_recursion_t *x);
/* After idn_server_free(). */
void idn_daemon_recursion_free(idn_daemon_recursion_t *x);

#endif
