/* main.c - idnoded: the idnode secondary node daemon (configuration, store, listeners, signals). */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon/acct.h"
#include "daemon/config.h"
#include "daemon/faults.h"
#include "daemon/log.h"
#include "daemon/node.h"
#include "daemon/reload.h"
#include "daemon/recursion.h"
#include "daemon/upstream.h"
#include "daemon/volumes.h"
#include "client/addr.h"
#include "proto/pkey.h"
#include "registry/registry.h"
#include "resolver/http.h"
#include "resolver/server.h"
#include "storage/store.h"

#define IDN_VERSION "0.1.0"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: idnoded [--config=FILE] [--OPTION=VALUE ...]\n"
		"       idnoded --check-config [--config=FILE] [--OPTION=VALUE ...]\n"
		"       idnoded --print-config | --print-defaults | --help | --version\n"
		"\n"
		"idnoded is an industrial internet identifier resolution secondary node: it\n"
		"answers Handle protocol (RFC 3651/3652) resolution requests over UDP and TCP\n"
		"from an LMDB store, for CNRI Handle clients and the IDIS client SDK alike.\n"
		"\n"
		"Without --config it runs on the built-in defaults (listen 127.0.0.1:2641,\n"
		"node prefix 88.100). Every option of the config file can be given on the\n"
		"command line as --name=value (or --name value), overriding the file.\n"
		"\n"
		"Modes:\n"
		"  --config=FILE     read options from FILE (name = value lines)\n"
		"  --check-config    validate the configuration, print it, and exit\n"
		"  --print-config    print the effective configuration and exit\n"
		"  --print-defaults  print a commented sample config file and exit\n"
		"  --demo            load demo identifiers into a new store (same as --demo=yes)\n"
		"\n"
		"Options:\n");
	idn_config_usage(out);
	fprintf(out,
		"\n"
		"Signals: SIGTERM/SIGINT stop the node after the requests in progress;\n"
		"SIGHUP re-reads the configuration (log-level, site-*, public-address,\n"
		"tcp-idle-timeout and quotas change live; the rest needs a restart);\n"
		"SIGUSR1 queues today's volume report so far for the top.\n"
		"Exit status: 0 on a clean stop, 1 on a runtime error, 2 on a usage or\n"
		"configuration error.\n");
}

enum { MODE_RUN = IDN_DMODE_RUN, MODE_CHECK = IDN_DMODE_CHECK, MODE_PRINT = IDN_DMODE_PRINT,
       MODE_DEFAULTS = IDN_DMODE_DEFAULTS };

/* Parse the command line (daemon/reload.c, the same parse a SIGHUP does):
 * --config first, then every other option so the command line wins. */
static int parse_args(int argc, char **argv, idn_config_t *c, int *mode)
{
	char err[600];
	if (idn_daemon_parse_config(argc, argv, c, mode, err, sizeof(err)) != 0) {
		fprintf(stderr, "idnoded: %s\n", err);
		return 2;
	}
	if (*mode == IDN_DMODE_HELP) {
		usage(stdout);
		exit(0);
	}
	if (*mode == IDN_DMODE_VERSION) {
		printf("idnoded %s\n", IDN_VERSION);
		exit(0);
	}
	return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;
	idn_log(5, "received %s, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	event_base_loopbreak(base);
}

/* SIGUSR1: queue today's volume report so far for the top. */
static void on_usr1(evutil_socket_t sig, short what, void *arg)
{
	idn_acct_request_report(arg, (int64_t)time(NULL));
}

/* "HOST:PORT" of a configured listen address with the port actually bound. */
static void bound_addr(const char *listen, uint16_t port, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	unsigned sl;
	if (idn_parse_hostport(listen, 0, &ss, &sl) != IDN_OK) {
		snprintf(buf, len, "%s", listen);
		return;
	}
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	idn_format_addr((struct sockaddr *)&ss, buf, len);
}

/* The HTTPS certificate: the configured pair, or <data-dir>/https-*.pem,
 * generated self-signed (CN = the node prefix) when neither file exists. */
static int https_cert(const idn_config_t *c, char *cert, char *key, size_t len, char *fp,
		      size_t fplen)
{
	bool dflt = !c->https_cert[0] && !c->https_key[0];
	if (c->https_cert[0])
		snprintf(cert, len, "%s", c->https_cert);
	else
		snprintf(cert, len, "%s/https-cert.pem", c->data_dir);
	if (c->https_key[0])
		snprintf(key, len, "%s", c->https_key);
	else
		snprintf(key, len, "%s/https-key.pem", c->data_dir);
	int ret = idn_cert_fingerprint(cert, fp, fplen);
	if (ret == IDN_ENOENT && dflt && access(key, F_OK) != 0) {
		ret = idn_cert_self_signed(cert, key, c->node_prefix, fp, fplen);
		if (ret == IDN_OK)
			idn_log(5, "generated a self-signed HTTPS certificate %s (key %s)", cert, key);
	}
	if (ret)
		idn_log(3, "https certificate %s: %s", cert, idn_strerror(ret));
	return ret;
}

/* The node page shows today's persisted resolutions (idn_acct_today). */
static uint64_t acct_today(void *arg)
{
	return idn_acct_today(arg);
}

int main(int argc, char **argv)
{
	idn_config_t cfg;
	int mode;
	int rc = parse_args(argc, argv, &cfg, &mode);
	if (rc)
		return rc;
	if (mode == MODE_DEFAULTS) {
		idn_config_print(&cfg, stdout, true);
		return 0;
	}
	if (mode == MODE_PRINT || mode == MODE_CHECK) {
		idn_config_print(&cfg, stdout, false);
		if (mode == MODE_CHECK)
			fprintf(stderr, "idnoded: configuration OK\n");
		return 0;
	}

	idn_log_init(idn_log_level_parse(cfg.log_level));
	signal(SIGPIPE, SIG_IGN);

	int workers = cfg.workers;
	if (workers == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		workers = n > 0 && n < 64 ? (int)n : 1;
	}

	idn_store_t *store = NULL;
	idn_store_opts_t so = { .map_size = (size_t)cfg.map_size,
				.max_readers = (unsigned)workers + 64,
				.reader_cache_entries = (uint32_t)cfg.reader_cache };
	int ret = idn_store_open(cfg.data_dir, &so, &store);
	if (ret) {
		idn_daemon_store_open_failed(cfg.data_dir, ret);
		return 1;
	}

	idn_node_t node;
	memset(&node, 0, sizeof(node));
	idn_server_info_t info = { 0 };
	idn_server_opts_t sopts = {
		.listen = cfg.listen,
		.workers = workers,
		.tcp_idle_timeout = cfg.tcp_idle_timeout,
		.tcp_max_conns = cfg.tcp_max_connections,
		.udp_reassembly_timeout = cfg.udp_reassembly_timeout,
		.rate_limit = cfg.rate_limit,
		.rate_burst = cfg.rate_burst,
		.write_rate_limit = cfg.write_rate_limit,
		.write_rate_burst = cfg.write_rate_burst,
		.rate_limit_answers = cfg.rate_limit_answers,
		.udp_max_answer = cfg.udp_max_answer,
		.max_request = cfg.max_request,
		.tcp_max_per_address = cfg.tcp_max_per_address,
		.max_connections = cfg.max_connections,
		.tcp_slow_timeout = cfg.tcp_slow_timeout,
		.store = store,
		.info = &info,
		.log = idn_vlog,
	};
	/* The registry answers every operation the listeners do not (writes,
	 * authentication); it is the only writer of the store. */
	char admins_buf[sizeof(cfg.server_admins) + 2 * IDN_CFG_STR];
	if (cfg.server_admins[0])
		snprintf(admins_buf, sizeof(admins_buf), "%s", cfg.server_admins);
	else
		snprintf(admins_buf, sizeof(admins_buf), "300:0.NA/%s,301:0.NA/%s", cfg.node_prefix,
			 cfg.node_prefix);
	idn_registry_opts_t ropts = {
		.store = store,
		.node_prefix = cfg.node_prefix,
		.max_auth_time = cfg.auth_timeout,
		.max_batch = cfg.write_batch,
		.quota_identifiers = (uint64_t)cfg.quota_identifiers,
		.quota_daily = (uint64_t)cfg.quota_daily,
		.utc_offset = cfg.utc_offset * 60,
		.max_values = (uint32_t)cfg.max_values,
		.max_handle_len = (uint32_t)cfg.max_handle_length,
		.log = idn_vlog,
	};
	for (char *tok = strtok(admins_buf, ", "); tok && ropts.n_server_admins < IDN_REG_MAX_ADMINS;
	     tok = strtok(NULL, ", "))
		ropts.server_admins[ropts.n_server_admins++] = tok;
	idn_registry_t *reg = NULL;
	idn_dispatch_t dispatch = { NULL, idn_registry_submit, idn_registry_verify };
	sopts.dispatch = &dispatch;

	idn_server_t *srv = NULL;
	idn_http_t *http = NULL;
	char cert_path[PATH_MAX + 32], key_path[PATH_MAX + 32], fingerprint[128] = "";
	struct event_base *base = NULL;
	struct event *sigterm = NULL, *sigint = NULL, *sighup = NULL, *sigusr1 = NULL;
	struct event *outbox_timer = NULL;
	char err[512];
	rc = 1;

	/* Foreign handles with REC: the recursor and its cache (the workers
	 * answer warm entries themselves). */
	static idn_daemon_recursion_t recursion;
	static idn_reload_t reload; /* SIGHUP; set up once the listeners exist */
	ret = idn_daemon_recursion_init(&recursion, &cfg, store, &info, &sopts);
	if (ret) {
		idn_log(3, "cannot set up recursion: %s", idn_strerror(ret));
		goto out_store;
	}
	/* Bind first: the site record needs the real port when port 0 was asked. */
	ret = idn_server_new(&sopts, &srv);
	if (ret) {
		idn_log(3, "cannot listen on %s: %s", cfg.listen, idn_strerror(ret));
		goto out_store;
	}
	ret = idn_node_prepare(&node, &cfg, store, idn_server_port(srv), err, sizeof(err));
	if (ret) {
		idn_log(3, "%s", err);
		goto out_srv;
	}
	info.site = node.site;
	info.site_len = node.site_len;
	info.site_serial = (uint16_t)cfg.site_serial;
	info.primary = true;
	/* Certified (CT) requests are answered signed with the site key, the
	 * one the site record publishes, so clients verify with what they got
	 * from get-site-info. */
	info.sign_key = node.key;
	ropts.site = node.site;
	ropts.site_len = node.site_len;
	/* Registering upward: the node administrator's key unless told. */
	ropts.upstream = cfg.upstream;
	ropts.upstream_identity = cfg.upstream_identity;
	ropts.upstream_key = cfg.upstream_key[0] ? cfg.upstream_key : node.admin_key_path;
	ropts.upstream_retry_max = cfg.upstream_retry_max;
	ropts.sign_key = node.key;
	ret = idn_registry_new(&ropts, &reg);
	if (ret) {
		idn_log(3, "server-admins: '%s' is not a list of INDEX:HANDLE identities",
			cfg.server_admins);
		goto out_srv;
	}
	dispatch.ctx = reg;
	/* Volume accounting: resolution counts persisted through the registry. */
	static idn_acct_t acct;
	idn_acct_init(&acct, store, reg, node.key, cfg.node_prefix, cfg.utc_offset,
		      (int64_t)time(NULL));
	acct.srv = srv;
	ret = idn_registry_start(reg);
	if (ret) {
		idn_log(3, "cannot start the registry: %s", idn_strerror(ret));
		goto out_srv;
	}
	if (node.admin_key_generated)
		idn_log(5, "generated the node administrator's key %s (identity 300:0.NA/%s)",
			node.admin_key_path, cfg.node_prefix);
	if (cfg.upstream[0] && idn_daemon_upstream_start(reg, &node, &cfg) != IDN_OK)
		goto out_srv;

	/* HTTP(S): the same store, server info and registry as the native
	 * listeners, so both answer alike. */
	if (cfg.https_listen[0] &&
	    https_cert(&cfg, cert_path, key_path, sizeof(cert_path), fingerprint,
		       sizeof(fingerprint)) != IDN_OK)
		goto out_srv;
	/* The node page's figures (resolutions, registrations, enterprises). */
	static idn_volumes_src_t vol;
	idn_volumes_init(&vol, store, srv, cfg.node_prefix, node.site_addr, cfg.utc_offset);
	vol.today = acct_today;
	vol.today_arg = &acct;
	idn_http_opts_t hopts = {
		.listen = cfg.http_listen,
		.tls_listen = cfg.https_listen,
		.cert_path = cert_path,
		.key_path = key_path,
		.threads = cfg.http_threads,
		.max_body = (size_t)cfg.http_max_body,
		.timeout = cfg.http_timeout,
		.rate_limit = cfg.rate_limit,
		.rate_burst = cfg.rate_burst,
		.write_rate_limit = cfg.write_rate_limit,
		.write_rate_burst = cfg.write_rate_burst,
		.store = store,
		.info = &info,
		.dispatch = &dispatch,
		.log = idn_vlog,
		.volumes = idn_volumes_fill,
		.volumes_arg = &vol,
		.metrics = idn_acct_metrics,
		.metrics_arg = &acct,
	};
	if (cfg.http_listen[0] || cfg.https_listen[0]) {
		ret = idn_http_new(&hopts, &http);
		vol.http = http;
		acct.http = http;
		if (ret) {
			idn_log(3, "cannot listen on %s / %s (HTTP/HTTPS): %s", cfg.http_listen,
				cfg.https_listen, idn_strerror(ret));
			goto out_srv;
		}
	}

	base = event_base_new();
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	/* SIGHUP: the same parse as this start, the live options swapped in. */
	idn_reload_init(&reload, argc, argv, &cfg, srv, http, reg, &node, idn_server_port(srv),
			&info);
	sighup = evsignal_new(base, SIGHUP, idn_daemon_on_hup, &reload);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	evsignal_add(sighup, NULL);
	sigusr1 = evsignal_new(base, SIGUSR1, on_usr1, &acct);
	evsignal_add(sigusr1, NULL);
	outbox_timer = idn_daemon_upstream_timer(base, reg, &cfg);
	idn_volumes_attach(&vol, base);
	if (idn_acct_attach(&acct, base) != 0)
		idn_log(4, "volume accounting: no flush timer; counts are stored at shutdown only");

	ret = idn_daemon_recursion_start(&recursion);
	if (ret == IDN_OK)
		ret = idn_server_start(srv);
	if (ret) {
		idn_log(3, "cannot start the workers: %s", idn_strerror(ret));
		goto out_base;
	}
	if (http) {
		ret = idn_http_start(http);
		if (ret) {
			idn_log(3, "cannot start the HTTP threads: %s", idn_strerror(ret));
			goto out_base;
		}
		char ha[80] = "off", hsa[80] = "off";
		if (cfg.http_listen[0])
			bound_addr(cfg.http_listen, idn_http_port(http), ha, sizeof(ha));
		if (cfg.https_listen[0])
			bound_addr(cfg.https_listen, idn_http_tls_port(http), hsa, sizeof(hsa));
		char urls[200] = "", fp[160] = "";
		if (cfg.http_listen[0])
			snprintf(urls, sizeof(urls), "http://%s", ha);
		if (cfg.https_listen[0])
			snprintf(urls + strlen(urls), sizeof(urls) - strlen(urls), "%shttps://%s",
				 urls[0] ? " and " : "", hsa);
		if (fingerprint[0])
			snprintf(fp, sizeof(fp), " (certificate SHA-256 fingerprint %s)", fingerprint);
		idn_log(5, "http: listening on %s%s", urls, fp);
		if (fingerprint[0])
			idn_log(6, "http: certificate %s", cert_path);
		/* One stable line for scripts and tests (port 0 = ephemeral). */
		idn_log(5, "http ready: http %s https %s", ha, hsa);
		if (cfg.demo && cfg.http_listen[0])
			idn_log(5, "try: curl http://%s/api/handles/%s.12/PN-0001", ha, cfg.node_prefix);
	}
	idn_store_stat_t st = { 0 };
	idn_store_stat(store, &st);
	idn_log(5, "ready: prefix %s on %s (UDP+TCP), %d worker%s, store %s (%llu handles)",
		cfg.node_prefix, node.site_addr, workers, workers == 1 ? "" : "s", cfg.data_dir,
		(unsigned long long)st.handles);
	idn_log(6, "administrator: 300:0.NA/%s, key %s", cfg.node_prefix, node.admin_key_path);
	if (cfg.demo) {
		idn_log(5, "try: idnode resolve %s.12/PN-0001 --server %s", cfg.node_prefix,
			node.site_addr);
		idn_log(5, "register: idnode create %s.12/PN-0003 --value=1:URL:https://example.com "
			   "--auth=300:0.NA/%s.12 --key=%s --server %s",
			cfg.node_prefix, cfg.node_prefix, node.demo_key_path, node.site_addr);
	}
	else
		idn_log(5, "try: idnode resolve 0.NA/%s --server %s", cfg.node_prefix,
			node.site_addr);

	event_base_dispatch(base);

	/* Listeners first (no new jobs), then the registry answers what it
	 * holds, then the servers free the answers that came back late. */
	idn_http_stop(http);
	/* Native listeners: no more accepting or reading, then what was read
	 * is answered (queued writes committed by the registry, still running)
	 * and written out before the workers are joined. */
	idn_daemon_drain(srv, 10000);
	idn_server_stop(srv);
	idn_daemon_recursion_stop(&recursion);
	/* The last resolution counts, committed by the registry's stop. */
	idn_acct_final(&acct);
	if (cfg.upstream[0])
		idn_daemon_upstream_log(reg, true);
	idn_registry_stop(reg);
	idn_registry_stats_t rs;
	idn_registry_stats(reg, &rs);
	idn_log(5, "registry: %llu writes in %llu commits, %llu refused",
		(unsigned long long)rs.writes_ok, (unsigned long long)rs.commits,
		(unsigned long long)rs.writes_refused);
	idn_query_stats_t qs;
	idn_server_stats(srv, &qs);
	idn_log(5, "stopped: %llu requests, %llu resolutions (%llu answered, %llu not found), "
		   "%llu malformed",
		(unsigned long long)qs.requests, (unsigned long long)qs.resolutions,
		(unsigned long long)qs.resolved_ok, (unsigned long long)qs.not_found,
		(unsigned long long)qs.malformed);
	rc = 0;
out_base:
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (sighup)
		event_free(sighup);
	if (sigusr1)
		event_free(sigusr1);
	if (outbox_timer)
		event_free(outbox_timer);
	idn_volumes_deinit(&vol);
	idn_acct_deinit(&acct);
	if (base)
		event_base_free(base);
out_srv:
	idn_http_stop(http);
	idn_server_stop(srv);
	idn_daemon_recursion_stop(&recursion);
	idn_registry_stop(reg);
	idn_http_free(http);
	idn_server_free(srv);
	idn_daemon_recursion_free(&recursion);
	idn_registry_free(reg);
	idn_reload_deinit(&reload); /* the site records reloads built: no thread is left */
	idn_node_deinit(&node);
out_store:
	idn_store_close(store);
	return rc;
}
