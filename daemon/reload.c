/* reload.c - SIGHUP: parse the configuration again and swap in what can change live; the SIGTERM drain. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/log.h"
#include "daemon/reload.h"
#include "proto/errcode.h"

int idn_daemon_parse_config(int argc, char **argv, idn_config_t *c, int *mode, char *err,
			    size_t errlen)
{
	char msg[512];
	idn_config_defaults(c);
	*mode = IDN_DMODE_RUN;
	/* Two passes: the file first, so that the command line wins. */
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 1; i < argc; i++) {
			const char *a = argv[i];
			if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
				*mode = IDN_DMODE_HELP;
				return 0;
			}
			if (strcmp(a, "--version") == 0) {
				*mode = IDN_DMODE_VERSION;
				return 0;
			}
			if (strcmp(a, "--check-config") == 0) {
				*mode = IDN_DMODE_CHECK;
				continue;
			}
			if (strcmp(a, "--print-config") == 0) {
				*mode = IDN_DMODE_PRINT;
				continue;
			}
			if (strcmp(a, "--print-defaults") == 0) {
				*mode = IDN_DMODE_DEFAULTS;
				continue;
			}
			if (strncmp(a, "--", 2) != 0) {
				snprintf(err, errlen, "unexpected argument '%s' (see --help)", a);
				return 2;
			}
			char name[128];
			const char *value;
			const char *eq = strchr(a + 2, '=');
			size_t nl = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
			if (nl >= sizeof(name)) {
				snprintf(err, errlen, "unknown option '%s'", a);
				return 2;
			}
			memcpy(name, a + 2, nl);
			name[nl] = 0;
			if (!idn_config_known(name)) {
				snprintf(err, errlen, "unknown option '--%s' (see --help)", name);
				return 2;
			}
			if (eq) {
				value = eq + 1;
			} else if (idn_config_is_bool(name)) {
				value = "yes";
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				snprintf(err, errlen, "option '--%s' needs a value", name);
				return 2;
			}
			bool is_config = strcmp(name, "config") == 0;
			if (pass == 0 && is_config) {
				idn_config_set(c, name, value, msg, sizeof(msg));
				if (idn_config_load_file(c, value, msg, sizeof(msg))) {
					snprintf(err, errlen, "%s", msg);
					return 2;
				}
			} else if (pass == 1 && !is_config &&
				   idn_config_set(c, name, value, msg, sizeof(msg)) != IDN_OK) {
				snprintf(err, errlen, "--%s", msg);
				return 2;
			}
		}
	}
	if (idn_config_validate(c, msg, sizeof(msg)) != IDN_OK) {
		snprintf(err, errlen, "%s", msg);
		return 2;
	}
	return 0;
}

/* ---- reload ---- */

/*
 * What changes live. Everything else (listen addresses, data-dir, workers,
 * map-size, keys, HTTP, recursion, upstream, ...) is bound at start: a
 * reload logs it as needing a restart and keeps what runs. An option added
 * to the table in config.c is in that second group until it is listed here
 * and applied in apply().
 */
static const char *const live_opts[] = {
	"log-level",         /* the log's threshold */
	"site-description",  /* the site record: get-site-info, HTTP /api/site */
	"site-serial",
	"public-address",
	"tcp-idle-timeout",  /* each worker's idle sweep */
	"quota-identifiers", /* the registry's defaults, from its next batch */
	"quota-daily",
};

#define N_LIVE (sizeof(live_opts) / sizeof(live_opts[0]))
#define SWAP_TIMEOUT_MS 2000

struct live_info {
	idn_server_info_t info;
	uint8_t site[sizeof(((idn_node_t *)0)->site)];
	struct live_info *next;       /* on the kept list */
};

void idn_reload_init(idn_reload_t *r, int argc, char **argv, idn_config_t *cur,
		     idn_server_t *srv, idn_http_t *http, idn_registry_t *reg,
		     const idn_node_t *node, uint16_t port, const idn_server_info_t *start_info)
{
	memset(r, 0, sizeof(*r));
	r->argc = argc;
	r->argv = argv;
	r->cur = cur;
	r->srv = srv;
	r->http = http;
	r->reg = reg;
	r->node = node;
	r->port = port;
	r->start_info = start_info;
}

void idn_reload_deinit(idn_reload_t *r)
{
	free(r->live);
	r->live = NULL;
	while (r->kept) {
		live_info_t *n = r->kept->next;
		free(r->kept);
		r->kept = n;
	}
}

static bool is_live(const char *name)
{
	for (size_t i = 0; i < N_LIVE; i++)
		if (strcmp(live_opts[i], name) == 0)
			return true;
	return false;
}

/* The configuration as `name = value` lines (malloc'd; NULL when out of memory). */
static char *config_text(const idn_config_t *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	idn_config_print(c, f, false);
	fclose(f);
	return buf;
}

static void append(char *list, size_t cap, const char *name)
{
	size_t n = strlen(list);
	snprintf(list + n, cap - n, "%s%s", n ? ", " : "", name);
}

/* Compare option by option (both texts list them in table order); the
 * changed live ones go to `live`, the others to `restart`. */
static void diff(const char *a, const char *b, char *live, char *restart, size_t cap,
		 bool *site_changed)
{
	while (*a && *b) {
		const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
		size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
		if (la != lb || memcmp(a, b, la) != 0) {
			char name[128];
			size_t nl = strcspn(a, " =");
			snprintf(name, sizeof(name), "%.*s", (int)(nl < sizeof(name) ? nl : 0), a);
			if (is_live(name)) {
				append(live, cap, name);
				if (strncmp(name, "site-", 5) == 0 || strcmp(name, "public-address") == 0)
					*site_changed = true;
			} else {
				append(restart, cap, name);
			}
		}
		a += la + (ea ? 1 : 0);
		b += lb + (eb ? 1 : 0);
	}
}

/* A new site record from c (only its live options differ from what runs)
 * and the info object around it. */
static live_info_t *build_info(idn_reload_t *r, const idn_config_t *c, char *err, size_t errlen)
{
	idn_node_t *tmp = malloc(sizeof(*tmp));
	live_info_t *li = calloc(1, sizeof(*li));
	if (!tmp || !li) {
		free(tmp);
		free(li);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(tmp, r->node, sizeof(*tmp));
	int ret = idn_node_site(tmp, c, r->port, err, errlen);
	if (ret == IDN_OK) {
		memcpy(li->site, tmp->site, tmp->site_len);
		li->info = *r->start_info;
		li->info.site = li->site;
		li->info.site_len = tmp->site_len;
		li->info.site_serial = (uint16_t)c->site_serial;
	}
	free(tmp);
	if (ret != IDN_OK) {
		free(li);
		return NULL;
	}
	return li;
}

/* Swap the info in; the one it replaces is freed only when every thread
 * has let go of it. */
static void swap_info(idn_reload_t *r, live_info_t *li, int idle)
{
	idn_server_live_t sl = { &li->info, idle };
	int rs = idn_server_set_live(r->srv, &sl, SWAP_TIMEOUT_MS);
	int rh = idn_http_set_info(r->http, &li->info, SWAP_TIMEOUT_MS);
	live_info_t *old = r->live;
	r->live = li;
	if (!old)
		return; /* main's own info: lives as long as main */
	if (rs == IDN_OK && rh == IDN_OK) {
		free(old);
		return;
	}
	idn_log(4, "reload: a listener thread did not take the new site record within %d ms; "
		   "the old one is kept until exit",
		SWAP_TIMEOUT_MS);
	old->next = r->kept;
	r->kept = old;
}

void idn_reload_run(idn_reload_t *r)
{
	char err[512];
	int mode;
	idn_config_t *nc = malloc(sizeof(*nc));
	idn_config_t *next = malloc(sizeof(*next));
	char *ta = NULL, *tb = NULL;
	if (!nc || !next)
		goto oom;
	if (idn_daemon_parse_config(r->argc, r->argv, nc, &mode, err, sizeof(err)) != 0) {
		idn_log(3, "reload: %s; the running configuration is kept", err);
		goto out;
	}
	ta = config_text(r->cur);
	tb = config_text(nc);
	if (!ta || !tb)
		goto oom;
	char live[1024] = "", restart[2048] = "";
	bool site = false;
	diff(ta, tb, live, restart, sizeof(live) < sizeof(restart) ? sizeof(live) : sizeof(restart),
	     &site);
	r->reloads++;
	if (!live[0] && !restart[0]) {
		idn_log(5, "reload: configuration read, nothing changed");
		goto out;
	}

	/* The running configuration with the live options of the new one. */
	*next = *r->cur;
	snprintf(next->log_level, sizeof(next->log_level), "%s", nc->log_level);
	snprintf(next->site_description, sizeof(next->site_description), "%s",
		 nc->site_description);
	snprintf(next->public_address, sizeof(next->public_address), "%s", nc->public_address);
	next->site_serial = nc->site_serial;
	next->tcp_idle_timeout = nc->tcp_idle_timeout;
	next->quota_identifiers = nc->quota_identifiers;
	next->quota_daily = nc->quota_daily;

	live_info_t *li = NULL;
	if (site && !(li = build_info(r, next, err, sizeof(err)))) {
		idn_log(3, "reload: %s; the site record is kept as it runs", err);
		snprintf(next->site_description, sizeof(next->site_description), "%s",
			 r->cur->site_description);
		snprintf(next->public_address, sizeof(next->public_address), "%s",
			 r->cur->public_address);
		next->site_serial = r->cur->site_serial;
	}
	int idle = next->tcp_idle_timeout != r->cur->tcp_idle_timeout ? next->tcp_idle_timeout : 0;
	if (li) {
		swap_info(r, li, idle);
	} else if (idle) {
		idn_server_live_t sl = { NULL, idle };
		idn_server_set_live(r->srv, &sl, SWAP_TIMEOUT_MS);
	}
	if (strcmp(next->log_level, r->cur->log_level) != 0)
		idn_log_set_level(idn_log_level_parse(next->log_level));
	if (next->quota_identifiers != r->cur->quota_identifiers ||
	    next->quota_daily != r->cur->quota_daily)
		idn_registry_set_quotas(r->reg, (uint64_t)next->quota_identifiers,
					(uint64_t)next->quota_daily);
	*r->cur = *next;
	if (live[0])
		idn_log(5, "reload: applied %s", live);
	if (restart[0])
		idn_log(4, "reload: %s changed: needs a restart (the running values are kept)",
			restart);
	goto out;
oom:
	idn_log(3, "reload: out of memory; the running configuration is kept");
out:
	free(ta);
	free(tb);
	free(nc);
	free(next);
}

void idn_daemon_on_hup(evutil_socket_t sig, short what, void *arg)
{
	idn_log(5, "received SIGHUP, reloading the configuration");
	idn_reload_run(arg);
}

/* ---- stop ---- */

void idn_daemon_drain(idn_server_t *srv, int timeout_ms)
{
	unsigned left = 0;
	if (idn_server_quiesce(srv, timeout_ms, &left) == IDN_OK)
		idn_log(6, "stopping: listeners closed, requests in progress answered");
	else
		idn_log(4, "stopping: %u worker%s still had answers pending after %d ms; closing", left,
			left == 1 ? "" : "s", timeout_ms);
}
