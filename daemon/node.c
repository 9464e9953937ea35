/* node.c - server key, site record and first-start data of the node. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/addr.h"
#include "daemon/node.h"
#include "proto/msg.h"
#include "proto/record.h"

static int load_or_create_key(idn_node_t *n, const idn_config_t *c, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	if (c->server_key[0])
		snprintf(path, sizeof(path), "%s", c->server_key);
	else
		snprintf(path, sizeof(path), "%s/server-key.pem", c->data_dir);
	int ret = idn_pkey_load_pem(path, &n->key);
	if (ret == IDN_OK)
		return IDN_OK;
	if (ret != -ENOENT || c->server_key[0]) {
		snprintf(err, errlen, "server key %s: %s", path, idn_strerror(ret));
		return ret;
	}
	ret = idn_pkey_generate_rsa(2048, &n->key);
	if (!ret)
		ret = idn_pkey_save_pem(n->key, path);
	if (ret)
		snprintf(err, errlen, "cannot create server key %s: %s", path, idn_strerror(ret));
	return ret;
}

/* The site record: one server, TCP first (the IDIS SDK connects to the first
 * server's first TCP interface), then UDP; admin over TCP only. */
static int build_site(idn_node_t *n, const idn_config_t *c, uint16_t port, char *err,
		      size_t errlen)
{
	struct sockaddr_storage ss;
	unsigned sl;
	const char *addr = c->public_address[0] ? c->public_address : c->listen;
	if (idn_parse_hostport(addr, port, &ss, &sl) != IDN_OK) {
		snprintf(err, errlen, "cannot use '%s' as the site address", addr);
		return IDN_ECONFIG;
	}
	idn_site_t site;
	memset(&site, 0, sizeof(site));
	site.data_version = 1;
	site.proto_major = IDN_PROTO_MAJOR;
	site.proto_minor = IDN_PROTO_MINOR;
	site.serial = (uint16_t)c->site_serial;
	site.primary_mask = IDN_SITE_PRIMARY;
	site.hash_option = 2;
	site.n_attrs = 1;
	site.attrs[0].name = (idn_bytes_t){ (const uint8_t *)"desc", 4 };
	site.attrs[0].value = (idn_bytes_t){ (const uint8_t *)c->site_description,
					     (uint32_t)strlen(c->site_description) };
	site.n_servers = 1;
	idn_site_server_t *sv = &site.servers[0];
	sv->server_id = (uint32_t)c->server_id;
	if (ss.ss_family == AF_INET)
		memcpy(sv->address + 12, &((struct sockaddr_in *)&ss)->sin_addr, 4);
	else
		memcpy(sv->address, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);

	uint8_t keybuf[1024];
	idn_wire_t kw;
	idn_wire_init(&kw, keybuf, sizeof(keybuf));
	if (idn_pkey_hs_pubkey(n->key, &kw) == IDN_OK)
		sv->pubkey = (idn_bytes_t){ keybuf, (uint32_t)idn_wire_offset(&kw) };
	/* The listen address may name port 0; the bound port is what counts. */
	uint16_t p = port;
	if (c->public_address[0])
		p = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						  : ((struct sockaddr_in6 *)&ss)->sin6_port);
	else if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_port = htons(p);
	else
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(p);
	idn_format_addr((struct sockaddr *)&ss, n->site_addr, sizeof(n->site_addr));
	sv->n_ifs = 2;
	sv->ifs[0] = (idn_site_if_t){ IDN_IF_BOTH, IDN_PROTO_TCP, p };
	sv->ifs[1] = (idn_site_if_t){ IDN_IF_QUERY, IDN_PROTO_UDP, p };

	idn_wire_t w;
	idn_wire_init(&w, n->site, sizeof(n->site));
	idn_site_encode(&w, &site);
	if (w.err) {
		snprintf(err, errlen, "site record: %s", idn_strerror(w.err));
		return w.err;
	}
	n->site_len = idn_wire_offset(&w);
	return IDN_OK;
}

static void put_value(idn_wire_t *w, uint32_t index, const char *type, const void *data,
		      size_t len, uint8_t perms, uint32_t now)
{
	idn_value_t v = {
		.index = index,
		.timestamp = now,
		.ttl_type = IDN_TTL_RELATIVE,
		.ttl = 86400,
		.perms = perms,
		.type = { (const uint8_t *)type, (uint32_t)strlen(type) },
		.data = { data, (uint32_t)len },
	};
	idn_value_encode(w, &v);
}

/* Write the prefix handle 0.NA/<prefix>: HS_SITE (index 1) and an HS_ADMIN
 * (index 100) naming 300:0.NA/<prefix>, the identity that administers it. */
static void put_prefix_handle(idn_txn_t *t, const idn_node_t *n, const char *prefix,
			      uint32_t now)
{
	char na[IDN_CFG_STR + 8];
	int nalen = snprintf(na, sizeof(na), "0.NA/%s", prefix);
	uint8_t vals[8192], adm[IDN_CFG_STR + 16];
	idn_wire_t aw, w;
	idn_wire_init(&aw, adm, sizeof(adm));
	idn_admin_t a = { IDN_ADM_ALL, { (const uint8_t *)na, (uint32_t)nalen }, 300 };
	idn_admin_encode(&aw, &a);
	idn_wire_init(&w, vals, sizeof(vals));
	put_value(&w, 1, "HS_SITE", n->site, n->site_len, IDN_PERM_DEFAULT, now);
	put_value(&w, 100, "HS_ADMIN", adm, idn_wire_offset(&aw), IDN_PERM_DEFAULT, now);
	if (w.err) {
		return;
	}
	idn_txn_put(t, (const uint8_t *)na, (size_t)nalen, vals, idn_wire_offset(&w), 2);
	idn_txn_home(t, (const uint8_t *)na, (size_t)nalen);
}

/* A started node publishes its current site: when the HS_SITE of one of its
 * prefix handles still carries an older site record (new port, new key),
 * replace that value and keep the others. */
static void refresh_site(idn_txn_t *t, const idn_node_t *n, const char *prefix, uint32_t now)
{
	char na[IDN_CFG_STR + 8];
	int nalen = snprintf(na, sizeof(na), "0.NA/%s", prefix);
	idn_record_t rec;
	if (idn_txn_get(t, (const uint8_t *)na, (size_t)nalen, &rec) != IDN_OK)
		return;
	size_t cap = rec.values.len + n->site_len + 64;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return;
	idn_wire_t in, out;
	idn_wire_init_ro(&in, rec.values.p, rec.values.len);
	idn_wire_init(&out, buf, cap);
	bool changed = false;
	for (uint32_t i = 0; i < rec.count; i++) {
		idn_value_t v;
		if (idn_value_decode(&in, &v) != IDN_OK)
			goto done;
		if (v.index == 1 && idn_bytes_eq_str(v.type, "HS_SITE") &&
		    (v.data.len != n->site_len || memcmp(v.data.p, n->site, n->site_len) != 0)) {
			v.data = (idn_bytes_t){ n->site, (uint32_t)n->site_len };
			v.timestamp = now;
			changed = true;
		}
		idn_value_encode(&out, &v);
	}
	/* The record borrowed from the txn must not be overwritten while read. */
	if (changed && !out.err)
		idn_txn_put(t, (const uint8_t *)na, (size_t)nalen, buf, idn_wire_offset(&out),
			    rec.count);
done:
	free(buf);
}

/* The demo identifiers of enterprise <node>.12: a pump with its data sheet,
 * a gear motor, a production batch, and one value only administrators may
 * read (index 50, permissions 1100), which anonymous answers leave out. */
static const struct {
	const char *suffix;
	uint32_t index;
	const char *type;
	const char *data;
	uint8_t perms;
} demo[] = {
	{ "PN-0001", 1, "URL", "https://example.com/products/PN-0001", IDN_PERM_DEFAULT },
	{ "PN-0001", 2, "EMAIL", "service@example.com", IDN_PERM_DEFAULT },
	{ "PN-0001", 3, "PRODUCT.NAME", "Centrifugal pump CP-40", IDN_PERM_DEFAULT },
	{ "PN-0001", 4, "PRODUCT.MODEL", "CP-40", IDN_PERM_DEFAULT },
	{ "PN-0001", 50, "INTERNAL.COST", "confidential", IDN_PERM_ADMIN_READ | IDN_PERM_ADMIN_WRITE },
	{ "PN-0002", 1, "URL", "https://example.com/products/PN-0002", IDN_PERM_DEFAULT },
	{ "PN-0002", 3, "PRODUCT.NAME", "Gear motor GM-7", IDN_PERM_DEFAULT },
	{ "BATCH-2026-001", 1, "URL", "https://example.com/batches/2026-001", IDN_PERM_DEFAULT },
	{ "BATCH-2026-001", 2, "BATCH.DATE", "2026-01-15", IDN_PERM_DEFAULT },
	{ "BATCH-2026-001", 3, "BATCH.QUANTITY", "500", IDN_PERM_DEFAULT },
};

static void put_demo(idn_txn_t *t, const char *node_prefix, uint32_t now)
{
	char ent[IDN_CFG_STR + 16], na[IDN_CFG_STR + 16], handle[IDN_CFG_STR + 64];
	snprintf(ent, sizeof(ent), "%s.12", node_prefix);
	int nalen = snprintf(na, sizeof(na), "0.NA/%s", ent);
	uint8_t adm[IDN_CFG_STR + 32], vals[4096];
	idn_wire_t aw;
	idn_wire_init(&aw, adm, sizeof(adm));
	idn_admin_t a = { IDN_ADM_ALL & ~IDN_ADM_LIST_HANDLES,
			  { (const uint8_t *)na, (uint32_t)nalen }, 300 };
	idn_admin_encode(&aw, &a);
	size_t n = sizeof(demo) / sizeof(demo[0]);
	for (size_t i = 0; i < n;) {
		idn_wire_t w;
		idn_wire_init(&w, vals, sizeof(vals));
		uint32_t count = 0;
		size_t j = i;
		for (; j < n && strcmp(demo[j].suffix, demo[i].suffix) == 0; j++, count++)
			put_value(&w, demo[j].index, demo[j].type, demo[j].data,
				  strlen(demo[j].data), demo[j].perms, now);
		put_value(&w, 100, "HS_ADMIN", adm, idn_wire_offset(&aw), IDN_PERM_DEFAULT, now);
		int hl = snprintf(handle, sizeof(handle), "%s/%s", ent, demo[i].suffix);
		if (!w.err)
			idn_txn_put(t, (const uint8_t *)handle, (size_t)hl, vals, idn_wire_offset(&w),
				    count + 1);
		i = j;
	}
}

int idn_node_prepare(idn_node_t *n, const idn_config_t *c, idn_store_t *s, uint16_t port,
		     char *err, size_t errlen)
{
	memset(n, 0, sizeof(*n));
	int ret = load_or_create_key(n, c, err, errlen);
	if (!ret)
		ret = build_site(n, c, port, err, errlen);
	if (ret)
		return ret;

	idn_txn_t *t;
	ret = idn_txn_begin(s, &t);
	if (ret) {
		snprintf(err, errlen, "store: %s", idn_strerror(ret));
		return ret;
	}
	uint32_t now = (uint32_t)time(NULL);
	idn_bytes_t init;
	bool fresh = idn_txn_meta_get(t, "initialized", &init) == IDN_ENOTFOUND;
	char na[IDN_CFG_STR + 8];
	int nalen = snprintf(na, sizeof(na), "0.NA/%s", c->node_prefix);
	idn_record_t rec;
	if (fresh || idn_txn_get(t, (const uint8_t *)na, (size_t)nalen, &rec) == IDN_ENOTFOUND) {
		put_prefix_handle(t, n, c->node_prefix, now);
		if (fresh && c->demo) {
			char ent[IDN_CFG_STR + 8];
			snprintf(ent, sizeof(ent), "%s.12", c->node_prefix);
			put_prefix_handle(t, n, ent, now);
			put_demo(t, c->node_prefix, now);
		}
	}
	refresh_site(t, n, c->node_prefix, now);
	if (c->demo) {
		char ent[IDN_CFG_STR + 8];
		snprintf(ent, sizeof(ent), "%s.12", c->node_prefix);
		refresh_site(t, n, ent, now);
	}
	if (fresh) {
		uint8_t ts[4];
		idn_put_be32(ts, now);
		idn_txn_meta_put(t, "initialized", ts, sizeof(ts));
	}
	ret = idn_txn_commit(t);
	if (ret) {
		snprintf(err, errlen, "store: %s", idn_strerror(ret));
		return ret;
	}
	return ret;
}

void idn_node_deinit(idn_node_t *n)
{
	idn_pkey_free(n->key);
	n->key = NULL;
}
