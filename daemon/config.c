/* config.c - the option table and its parsers (file and command line). */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client/addr.h"
#include "daemon/config.h"
#include "proto/errcode.h"

/* T_ADDR_OPT: an address or empty (that listener is off). */
enum opt_type { T_STR, T_PATH, T_INT, T_BOOL, T_SIZE, T_ADDR, T_ADDR_OPT };

typedef struct {
	const char *name;
	enum opt_type type;
	long long min, max;
	const char *def;
	size_t off;
	size_t size;              /* for strings */
	const char *help;
} opt_t;

#define S(f) offsetof(idn_config_t, f), sizeof(((idn_config_t *)0)->f)
#define N(f) offsetof(idn_config_t, f), 0

static const opt_t opts[] = {
	{ "data-dir", T_PATH, 0, 0, "/var/lib/idnode", S(data_dir),
	  "Directory of the LMDB store and the server key; created if missing." },
	{ "listen", T_ADDR, 0, 0, "127.0.0.1:2641", S(listen),
	  "Address for the native Handle protocol, UDP and TCP (HOST:PORT, [V6]:PORT).\n"
	  "Port 0 picks a free port (printed when ready)." },
	{ "workers", T_INT, 0, 64, "0", N(workers),
	  "Listener threads, each with its own event loop and sockets; 0 = one per core." },
	{ "node-prefix", T_STR, 0, 0, "88.100", S(node_prefix),
	  "This node's prefix; homed (as 0.NA/<prefix>) on first start." },
	{ "public-address", T_STR, 0, 0, "", S(public_address),
	  "Address published in the node's HS_SITE record; empty = the listen address." },
	{ "server-id", T_INT, 1, 2147483647, "1", N(server_id),
	  "This server's id inside its site (HS_SITE)." },
	{ "site-serial", T_INT, 0, 65535, "1", N(site_serial),
	  "Serial number of the site record; raise it whenever the site changes." },
	{ "site-description", T_STR, 0, 0, "idnode secondary node", S(site_description),
	  "The `desc` attribute of the site record." },
	{ "server-key", T_PATH, 0, 0, "", S(server_key),
	  "PEM private key of this server (RSA); empty = <data-dir>/server-key.pem,\n"
	  "generated on first start." },
	{ "tcp-idle-timeout", T_INT, 1, 86400, "60", N(tcp_idle_timeout),
	  "Seconds a TCP connection may stay silent before it is closed." },
	{ "tcp-max-connections", T_INT, 1, 1000000, "4096", N(tcp_max_connections),
	  "Open TCP connections allowed per worker." },
	{ "udp-reassembly-timeout", T_INT, 1, 60, "5", N(udp_reassembly_timeout),
	  "Seconds to wait for all datagrams of a multi-packet UDP request." },
	{ "rate-limit", T_INT, 0, 1000000, "2000", N(rate_limit),
	  "Resolution requests a second per source address (IPv4 address, IPv6 /64),\n"
	  "per worker; 0 = no limit. Over it: UDP requests are dropped (a few a second\n"
	  "are answered RC 603), TCP and HTTP ones answered RC 603 / HTTP 429.\n"
	  "Loopback sources are limited too." },
	{ "rate-burst", T_INT, 0, 100000000, "4000", N(rate_burst),
	  "Resolution requests a source may send at once (bucket size); 0 = 2 x rate-limit." },
	{ "write-rate-limit", T_INT, 0, 1000000, "500", N(write_rate_limit),
	  "Administrative requests (writes, logins, lists) a second per source address,\n"
	  "per worker, on connections not logged in (IDIS OC 2001: those are bounded by\n"
	  "the quotas) and over HTTP; 0 = no limit. Over it: RC 603 (HTTP 429)." },
	{ "write-rate-burst", T_INT, 0, 100000000, "1000", N(write_rate_burst),
	  "Administrative requests a source may send at once; 0 = 2 x write-rate-limit." },
	{ "rate-limit-answers", T_INT, 0, 1000, "5", N(rate_limit_answers),
	  "UDP requests over the rate answered RC 603 per second per source (the rest\n"
	  "are dropped: answering a flood would help a reflection attack)." },
	{ "udp-max-answer", T_INT, 492, 262144, "1968", N(udp_max_answer),
	  "Largest answer message sent over UDP (1968 = 4 datagrams of 492 bytes);\n"
	  "larger answers get RC 2 \"use TCP\" (CNRI clients retry over TCP at once), so\n"
	  "the node cannot amplify spoofed requests by more than that." },
	{ "max-request", T_INT, 1024, 262144, "262144", N(max_request),
	  "Largest request message in bytes (TCP framing, UDP reassembly); larger ones get\n"
	  "RC 4 and the TCP connection is closed." },
	{ "tcp-max-per-address", T_INT, 1, 1000000, "256", N(tcp_max_per_address),
	  "Open TCP connections per source address (IPv6 /64), all workers together." },
	{ "max-connections", T_INT, 1, 10000000, "16384", N(max_connections),
	  "Open TCP connections in total, all workers together." },
	{ "tcp-slow-timeout", T_INT, 1, 3600, "10", N(tcp_slow_timeout),
	  "Seconds a TCP client may take to send a whole request once it began one, or\n"
	  "to read the answers waiting for it; then it gets RC 4 and is closed." },
	{ "max-values", T_INT, 1, 2048, "2048", N(max_values),
	  "Values one handle may hold (creates and added values); RC 202 beyond." },
	{ "max-handle-length", T_INT, 16, 500, "255", N(max_handle_length),
	  "Bytes of a handle that may be created (RC 102 beyond). The protocol allows\n"
	  "2048, the store keys at most 511." },
	{ "map-size", T_SIZE, 1LL << 20, 1LL << 42, "64G", N(map_size),
	  "Largest size of the LMDB store (sparse file; suffixes K, M, G, T)." },
	{ "reader-cache", T_INT, 0, 16777216, "262144", N(reader_cache),
	  "Entries of each thread's store lookup cache (32 bytes each, plus 128 for\n"
	  "copies of the records; rounded down to a power of two; 262144 = 40 MiB per\n"
	  "thread, resident as it fills): a handle resolved again skips the B-tree\n"
	  "search; a write drops only the entries of the handles it changes. 0 = no cache." },
	{ "log-level", T_STR, 0, 0, "info", S(log_level),
	  "One of err, warning, notice, info, debug." },
	{ "demo", T_BOOL, 0, 1, "no", N(demo),
	  "Load the demo identifiers on first start (a new, empty store)." },
	{ "admin-key", T_PATH, 0, 0, "", S(admin_key),
	  "PEM key of the node administrator, installed as HS_PUBKEY at\n"
	  "300:0.NA/<node-prefix> (a private key's public half is used). Empty =\n"
	  "<data-dir>/admin-key.pem, a private key generated on first start." },
	{ "admin-secret-file", T_PATH, 0, 0, "", S(admin_secret_file),
	  "File holding a secret key for 301:0.NA/<node-prefix> (HS_SECKEY); empty = none." },
	{ "server-admins", T_STR, 0, 0, "", S(server_admins),
	  "Identities (INDEX:HANDLE, comma-separated) that administer the server: they\n"
	  "home and unhome prefixes and pass every permission check. Empty =\n"
	  "300:0.NA/<node-prefix>,301:0.NA/<node-prefix>." },
	{ "quota-identifiers", T_INT, 0, 2147483647, "0", N(quota_identifiers),
	  "Identifiers an enterprise prefix may hold unless its IDNODE_QUOTA value\n"
	  "says otherwise; 0 = no limit (refusals: RC 604)." },
	{ "quota-daily", T_INT, 0, 2147483647, "0", N(quota_daily),
	  "Registrations an enterprise prefix may make per day unless its IDNODE_QUOTA\n"
	  "value says otherwise; 0 = no limit (refusals: RC 603)." },
	{ "auth-timeout", T_INT, 1, 3600, "60", N(auth_timeout),
	  "Seconds a challenge (RC 402) waits for its answer." },
	{ "write-batch", T_INT, 1, 100000, "4096", N(write_batch),
	  "Writes gathered into one durable commit at most (group commit)." },
	{ "utc-offset", T_INT, -1440, 1440, "480", N(utc_offset),
	  "Minutes east of UTC of the node's day boundaries for daily counters and\n"
	  "quotas (480 = China Standard Time)." },
	{ "role", T_STR, 0, 0, "secondary", S(role),
	  "secondary: a secondary node (registers upward when `upstream` is set).\n"
	  "top: a top-level node; it homes 0.NA/0.NA (the root) besides its own prefix and\n"
	  "holds the prefix handles of its secondary nodes. To admit a secondary node\n"
	  "88.100, its operator creates 0.NA/88.100 as the node administrator:\n"
	  "  idnode prefix create 88.100 --admin-pubkey=secondary-admin.pub.pem\n"
	  "    --auth=300:0.NA/<top prefix> --key=<data-dir>/admin-key.pem --server=TOP\n"
	  "(the secondary's <data-dir>/admin-key.pem.pub); the secondary then fills in\n"
	  "its HS_SITE, HS_SITE.PREFIX and HS_PUBKEY and reports its enterprise prefixes." },
	{ "upstream", T_STR, 0, 0, "", S(upstream),
	  "Top-level node(s) to register with: HOST:PORT,HOST:PORT,... (host names are\n"
	  "resolved with c-ares and re-resolved when their TTL ends; every address is\n"
	  "tried in turn). Empty = not connected (nothing is queued for upstream)." },
	{ "upstream-key", T_PATH, 0, 0, "", S(upstream_key),
	  "PEM private key proving upstream-identity at the top; empty = the node\n"
	  "administrator's key, <data-dir>/admin-key.pem." },
	{ "upstream-identity", T_STR, 0, 0, "", S(upstream_identity),
	  "Identity (INDEX:HANDLE) to authenticate as at the top; empty =\n"
	  "300:0.NA/<node-prefix>." },
	{ "upstream-retry-max", T_INT, 1, 86400, "300", N(upstream_retry_max),
	  "Seconds between attempts at most: failures back off from 1 s, doubling." },
	{ "http-listen", T_ADDR_OPT, 0, 0, "127.0.0.1:8000", S(http_listen),
	  "Address of the plain HTTP listener: CNRI's JSON API (/api/...), the handle\n"
	  "proxy (GET /<handle>) and the node's pages; empty = no plain HTTP." },
	{ "https-listen", T_ADDR_OPT, 0, 0, "127.0.0.1:8443", S(https_listen),
	  "Address of the HTTPS listener (TLS 1.2 or newer); empty = no HTTPS." },
	{ "https-cert", T_PATH, 0, 0, "", S(https_cert),
	  "PEM certificate (chain) for HTTPS; empty = <data-dir>/https-cert.pem, a\n"
	  "self-signed certificate generated on first start (with https-key)." },
	{ "https-key", T_PATH, 0, 0, "", S(https_key),
	  "PEM private key for HTTPS; empty = <data-dir>/https-key.pem." },
	{ "http-threads", T_INT, 1, 64, "1", N(http_threads),
	  "HTTP listener threads, each with its own event loop and sockets." },
	{ "http-max-body", T_SIZE, 1LL << 10, 1LL << 30, "16M", N(http_max_body),
	  "Largest HTTP request body (suffixes K, M, G); larger ones get 413." },
	{ "http-timeout", T_INT, 1, 3600, "30", N(http_timeout),
	  "Seconds an HTTP client may take to send a request or read an answer." },
	{ "recursion", T_BOOL, 0, 1, "yes", N(recursion),
	  "Resolve handles of prefixes not homed here for clients that set REC (CNRI\n"
	  "clients do): the prefix record from the local store or the top (`upstream`,\n"
	  "names resolved with c-ares), referrals followed, the answer relayed and cached.\n"
	  "no = such requests get RC 301, as without REC." },
	{ "cache-size", T_SIZE, 1LL << 16, 1LL << 40, "64M", N(cache_size),
	  "Memory for the recursion cache (prefix records and relayed answers, keys\n"
	  "included); the least recently used entries go first." },
	{ "recursion-timeout", T_INT, 100, 60000, "3000", N(recursion_timeout),
	  "Milliseconds a recursive resolution may take before it is answered RC 2." },
	{ "negative-ttl", T_INT, 0, 86400, "60", N(negative_ttl),
	  "Seconds a relayed RC 100 / RC 200 stays cached (CNRI records carry no\n"
	  "negative TTL); 0 = not cached." },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static const opt_t *find(const char *name)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

bool idn_config_known(const char *name)
{
	return find(name) != NULL || strcmp(name, "config") == 0;
}

bool idn_config_is_bool(const char *name)
{
	const opt_t *o = find(name);
	return o && o->type == T_BOOL;
}

int idn_log_level_parse(const char *s)
{
	static const char *names[] = { "emerg", "alert", "crit", "err", "warning", "notice",
				       "info", "debug" };
	for (int i = 0; i < 8; i++)
		if (strcasecmp(s, names[i]) == 0)
			return i;
	if (strcasecmp(s, "error") == 0)
		return 3;
	if (strcasecmp(s, "warn") == 0)
		return 4;
	return -1;
}

static int parse_size(const char *v, long long *out)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (end == v || errno || n < 0)
		return -1;
	int shift = 0;
	switch (toupper((unsigned char)*end)) {
	case 0:
		break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default:
		return -1;
	}
	if (*end && end[1] != 0 && !(toupper((unsigned char)end[1]) == 'B' && end[2] == 0))
		return -1;
	if (n > (LLONG_MAX >> shift))
		return -1;
	*out = n << shift;
	return 0;
}

/* 1048576 -> "1M": the largest suffix that divides the size. */
static const char *size_text(long long n, char *buf, size_t len)
{
	static const char suffix[] = "KMGT";
	int i = -1;
	while (i < 3 && n >= 1024 && n % 1024 == 0) {
		n /= 1024;
		i++;
	}
	snprintf(buf, len, "%lld%.*s", n, i >= 0 ? 1 : 0, i >= 0 ? suffix + i : "");
	return buf;
}

int idn_config_set(idn_config_t *c, const char *name, const char *value, char *err,
		   size_t errlen)
{
	if (strcmp(name, "config") == 0) {
		snprintf(c->config_path, sizeof(c->config_path), "%s", value);
		return IDN_OK;
	}
	const opt_t *o = find(name);
	if (!o) {
		snprintf(err, errlen, "unknown option '%s'", name);
		return IDN_ECONFIG;
	}
	char *field = (char *)c + o->off;
	char *end;
	long long n;
	switch (o->type) {
	case T_STR:
	case T_PATH:
	case T_ADDR:
	case T_ADDR_OPT:
		if (strlen(value) >= o->size) {
			snprintf(err, errlen, "%s: value longer than %zu bytes", name, o->size - 1);
			return IDN_ECONFIG;
		}
		if (o->type == T_ADDR || (o->type == T_ADDR_OPT && value[0])) {
			struct sockaddr_storage ss;
			unsigned sl;
			if (idn_parse_hostport(value, 2641, &ss, &sl) != IDN_OK) {
				snprintf(err, errlen,
					 "%s: '%s' is not a numeric HOST:PORT address", name, value);
				return IDN_ECONFIG;
			}
		}
		memcpy(field, value, strlen(value) + 1);
		return IDN_OK;
	case T_INT:
		errno = 0;
		n = strtoll(value, &end, 10);
		if (end == value || *end || errno || n < o->min || n > o->max) {
			snprintf(err, errlen, "%s: '%s' is not an integer from %lld to %lld", name,
				 value, o->min, o->max);
			return IDN_ECONFIG;
		}
		*(int *)field = (int)n;
		return IDN_OK;
	case T_SIZE:
		if (parse_size(value, &n) || n < o->min || n > o->max) {
			char lo[32], hi[32];
			snprintf(err, errlen, "%s: '%s' is not a size from %s to %s (e.g. %s)", name,
				 value, size_text(o->min, lo, sizeof(lo)), size_text(o->max, hi, sizeof(hi)),
				 o->def);
			return IDN_ECONFIG;
		}
		*(long long *)field = n;
		return IDN_OK;
	case T_BOOL:
		if (!strcasecmp(value, "yes") || !strcasecmp(value, "true") || !strcmp(value, "1") ||
		    !strcasecmp(value, "on")) {
			*(bool *)field = true;
		} else if (!strcasecmp(value, "no") || !strcasecmp(value, "false") ||
			   !strcmp(value, "0") || !strcasecmp(value, "off")) {
			*(bool *)field = false;
		} else {
			snprintf(err, errlen, "%s: '%s' is not yes or no", name, value);
			return IDN_ECONFIG;
		}
		return IDN_OK;
	}
	return IDN_ECONFIG;
}

void idn_config_defaults(idn_config_t *c)
{
	char err[256];
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NOPTS; i++)
		idn_config_set(c, opts[i].name, opts[i].def, err, sizeof(err));
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int idn_config_load_file(idn_config_t *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	char line[4096], msg[512];
	int lineno = 0, ret = IDN_OK;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line too long", path, lineno);
			ret = IDN_ECONFIG;
			break;
		}
		char *hash = strchr(line, '#');
		char *p = trim(line);
		if (*p == 0 || *p == '#')
			continue;
		char *eq = strchr(p, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected 'name = value'", path, lineno);
			ret = IDN_ECONFIG;
			break;
		}
		*eq = 0;
		char *name = trim(p), *value = trim(eq + 1);
		if (*value == '"') {
			char *close = strchr(value + 1, '"');
			if (!close) {
				snprintf(err, errlen, "%s:%d: unterminated quote", path, lineno);
				ret = IDN_ECONFIG;
				break;
			}
			*close = 0;
			value++;
		} else if (hash && hash > eq) {
			*hash = 0;
			value = trim(value);
		}
		if (strcmp(name, "config") == 0) {
			snprintf(err, errlen, "%s:%d: 'config' can only be given on the command line",
				 path, lineno);
			ret = IDN_ECONFIG;
			break;
		}
		if (idn_config_set(c, name, value, msg, sizeof(msg)) != IDN_OK) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
			ret = IDN_ECONFIG;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* A prefix such as 88.100 or 20.500.12345: dot-separated, no '/', printable. */
static bool prefix_ok(const char *p)
{
	size_t n = strlen(p);
	if (n == 0 || n > 128 || p[0] == '.' || p[n - 1] == '.' || strstr(p, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '/' || (unsigned char)p[i] <= ' ' || p[i] == 0x7f)
			return false;
	return strncasecmp(p, "0.NA", 4) != 0 || (p[4] != 0 && p[4] != '.');
}

/* role, and upstream as HOST:PORT entries (HOST a name or an address,
 * [V6]:PORT for IPv6, PORT 1-65535); names are only resolved by the node. */
static int validate_upstream(const idn_config_t *c, char *err, size_t errlen)
{
	if (strcmp(c->role, "secondary") != 0 && strcmp(c->role, "top") != 0) {
		snprintf(err, errlen, "role: '%s' is not secondary or top", c->role);
		return IDN_ECONFIG;
	}
	const char *p = c->upstream;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char e[IDN_CFG_STR];
		while (n > 0 && *p == ' ')
			p++, n--;
		while (n > 0 && p[n - 1] == ' ')
			n--;
		const char *colon = n < sizeof(e) ? memrchr(p, ':', n) : NULL;
		char *pe = NULL;
		long port = 0;
		if (colon) {
			memcpy(e, colon + 1, n - (size_t)(colon + 1 - p));
			e[n - (size_t)(colon + 1 - p)] = 0;
			port = strtol(e, &pe, 10);
		}
		bool v6 = n > 0 && p[0] == '[';
		if (!colon || colon == p || !e[0] || *pe || port < 1 || port > 65535 ||
		    (v6 && colon[-1] != ']') || (!v6 && memchr(p, ':', (size_t)(colon - p)))) {
			snprintf(err, errlen, "upstream: '%.*s' is not HOST:PORT", (int)n, p);
			return IDN_ECONFIG;
		}
		p = end ? end + 1 : p + strlen(p);
	}
	if (c->upstream_identity[0] && !strchr(c->upstream_identity, ':')) {
		snprintf(err, errlen, "upstream-identity: '%s' is not INDEX:HANDLE",
			 c->upstream_identity);
		return IDN_ECONFIG;
	}
	return IDN_OK;
}

int idn_config_validate(const idn_config_t *c, char *err, size_t errlen)
{
	if (!prefix_ok(c->node_prefix)) {
		snprintf(err, errlen, "node-prefix: '%s' is not a valid prefix (like 88.100)",
			 c->node_prefix);
		return IDN_ECONFIG;
	}
	if (idn_log_level_parse(c->log_level) < 0) {
		snprintf(err, errlen, "log-level: '%s' is not one of err, warning, notice, info, debug",
			 c->log_level);
		return IDN_ECONFIG;
	}
	if (c->public_address[0]) {
		struct sockaddr_storage ss;
		unsigned sl;
		if (idn_parse_hostport(c->public_address, 2641, &ss, &sl) != IDN_OK) {
			snprintf(err, errlen, "public-address: '%s' is not a numeric address",
				 c->public_address);
			return IDN_ECONFIG;
		}
	}
	if (c->data_dir[0] == 0) {
		snprintf(err, errlen, "data-dir: must not be empty");
		return IDN_ECONFIG;
	}
	return validate_upstream(c, err, errlen);
}

static void print_value(const idn_config_t *c, const opt_t *o, char *buf, size_t len)
{
	const char *field = (const char *)c + o->off;
	switch (o->type) {
	case T_INT:
		snprintf(buf, len, "%d", *(const int *)field);
		break;
	case T_SIZE:
		snprintf(buf, len, "%lld", *(const long long *)field);
		break;
	case T_BOOL:
		snprintf(buf, len, "%s", *(const bool *)field ? "yes" : "no");
		break;
	default:
		snprintf(buf, len, "\"%s\"", field);
	}
}

void idn_config_print(const idn_config_t *c, FILE *out, bool commented)
{
	char v[PATH_MAX + 8];
	if (commented)
		fprintf(out, "# idnode.conf - configuration of idnoded, the idnode secondary node.\n"
			     "# Every option can also be given on the command line as --name=value,\n"
			     "# which overrides this file. Lines starting with # are comments.\n");
	for (size_t i = 0; i < NOPTS; i++) {
		const opt_t *o = &opts[i];
		if (commented) {
			fprintf(out, "\n# ");
			for (const char *h = o->help; *h; h++) {
				fputc(*h, out);
				if (*h == '\n')
					fputs("# ", out);
			}
			fprintf(out, "\n#%s = %s\n", o->name, o->def);
			continue;
		}
		print_value(c, o, v, sizeof(v));
		fprintf(out, "%s = %s\n", o->name, v);
	}
}

void idn_config_usage(FILE *out)
{
	for (size_t i = 0; i < NOPTS; i++) {
		const opt_t *o = &opts[i];
		fprintf(out, "  --%s=%s\n      ", o->name,
			o->type == T_INT ? "N" : o->type == T_BOOL ? "yes|no" :
			o->type == T_SIZE ? "SIZE" : o->type == T_ADDR ? "HOST:PORT" :
			o->type == T_ADDR_OPT ? "[HOST:PORT]" : "VALUE");
		for (const char *h = o->help; *h; h++) {
			fputc(*h, out);
			if (*h == '\n')
				fputs("      ", out);
		}
		fprintf(out, " (default: %s)\n", o->def[0] ? o->def : "none");
	}
}
