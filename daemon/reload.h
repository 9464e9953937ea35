/* reload.h - idnoded's signals: SIGHUP re-reads the configuration and swaps in what may change live; SIGTERM drains. */
#ifndef IDN_RELOAD_H
#define IDN_RELOAD_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "daemon/config.h"
#include "daemon/node.h"
#include "registry/registry.h"
#include "resolver/http.h"
#include "resolver/server.h"

/*
 * Rules of use:
 * - idn_daemon_parse_config() is the one parse of the command line (and
 *   the --config file it names), at start and on every SIGHUP, so a reload
 *   sees exactly what a restart would.
 * - A reload never edits the running configuration in place: it parses a
 *   new one, validates it, and on success copies the options that may
 *   change live into a new value that replaces main's (see reload.c for
 *   the list); every other change is logged as needing a restart and left
 *   as it runs. A bad file is logged and changes nothing.
 * - The server info (site record) is rebuilt, not edited: the listener
 *   threads switch to the new object between two callbacks and the old one
 *   is freed once all of them did (kept until exit if one did not in time).
 */

enum { IDN_DMODE_RUN, IDN_DMODE_CHECK, IDN_DMODE_PRINT, IDN_DMODE_DEFAULTS, IDN_DMODE_HELP,
       IDN_DMODE_VERSION };

/* Defaults, then the --config file, then every other --name=value. Returns
 * 0, or 2 with the message in err (unknown option, bad value, bad file). */
int idn_daemon_parse_config(int argc, char **argv, idn_config_t *c, int *mode, char *err,
			    size_t errlen);

typedef struct live_info live_info_t;

typedef struct {
	int argc;
	char **argv;
	idn_config_t *cur;            /* main's running configuration */
	idn_server_t *srv;
	idn_http_t *http;             /* may be NULL */
	idn_registry_t *reg;
	const idn_node_t *node;       /* the key the site record carries */
	uint16_t port;                /* bound native port */
	const idn_server_info_t *start_info; /* main's: primary, sign_key */
	live_info_t *live;            /* the info built by the last reload (NULL: main's) */
	live_info_t *kept;            /* older ones a thread may still hold: freed at exit */
	unsigned reloads;
} idn_reload_t;

void idn_reload_init(idn_reload_t *r, int argc, char **argv, idn_config_t *cur,
		     idn_server_t *srv, idn_http_t *http, idn_registry_t *reg,
		     const idn_node_t *node, uint16_t port, const idn_server_info_t *start_info);
/* Re-read and apply (what SIGHUP does); logs what changed. */
void idn_reload_run(idn_reload_t *r);
/* After the listeners are freed. */
void idn_reload_deinit(idn_reload_t *r);
/* libevent callback for SIGHUP; arg is the idn_reload_t. */
void idn_daemon_on_hup(evutil_socket_t sig, short what, void *arg);

/* SIGTERM, after the main loop left: the native listeners stop accepting
 * and reading, requests already read are answered (writes committed by the
 * registry, which still runs) and written out; bounded by timeout_ms. */
void idn_daemon_drain(idn_server_t *srv, int timeout_ms);

#endif
