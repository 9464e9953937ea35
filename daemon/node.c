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

/* HS_PUBKEY of the key in `path` (private or public PEM). When `path` is
 * missing and `generate` is set, a new RSA private key is written there. */
static int load_pubkey_blob(const char *path, bool generate, uint8_t *blob, size_t cap,
			    size_t *len, bool *generated, char *err, size_t errlen)
{
	idn_pkey_t *k = NULL;
	int ret = idn_pkey_load_pem(path, &k);
	if (ret == IDN_ECRYPTO)
		ret = idn_pkey_load_public_pem(path, &k);
	if (ret == -ENOENT && generate) {
		ret = idn_pkey_generate_rsa(2048, &k);
		if (!ret)
			ret = idn_pkey_save_pem(k, path);
		if (!ret) {
			char pub[PATH_MAX + 48];
			snprintf(pub, sizeof(pub), "%s.pub", path);
			idn_pkey_save_public_pem(k, pub);
			*generated = true;
		}
	}
	if (ret) {
		snprintf(err, errlen, "key %s: %s", path, idn_strerror(ret));
		idn_pkey_free(k);
		return ret;
	}
	idn_wire_t w;
	idn_wire_init(&w, blob, cap);
	ret = idn_pkey_hs_pubkey(k, &w);
	idn_pkey_free(k);
	if (ret || w.err) {
		snprintf(err, errlen, "key %s: cannot encode as HS_PUBKEY: %s", path,
			 idn_strerror(ret ? ret : w.err));
		return ret ? ret : w.err;
	}
	*len = idn_wire_offset(&w);
	return IDN_OK;
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

/* Set value `index` of handle `na` to (type, data): replace it when it
 * differs, add it when missing, keep the other values. Creates the handle
 * when it does not exist. */
static void upsert_value(idn_txn_t *t, const char *na, uint32_t index, const char *type,
			 const void *data, size_t dlen, uint8_t perms, uint32_t now)
{
	size_t nalen = strlen(na);
	idn_record_t rec = { 0 };
	bool exists = idn_txn_get(t, (const uint8_t *)na, nalen, &rec) == IDN_OK;
	size_t cap = (exists ? rec.values.len : 0) + dlen + strlen(type) + 64;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return;
	idn_wire_t in, out;
	idn_wire_init_ro(&in, rec.values.p, rec.values.len);
	idn_wire_init(&out, buf, cap);
	bool found = false, changed = false;
	uint32_t n = 0;
	for (uint32_t i = 0; exists && i < rec.count; i++) {
		idn_value_t v;
		if (idn_value_decode(&in, &v) != IDN_OK)
			goto done;
		if (v.index == index) {
			found = true;
			if (!idn_bytes_eq_str(v.type, type) || v.data.len != dlen ||
			    memcmp(v.data.p, data, dlen) != 0) {
				put_value(&out, index, type, data, dlen, perms, now);
				changed = true;
				n++;
				continue;
			}
		}
		idn_value_encode(&out, &v);
		n++;
	}
	if (!found) {
		put_value(&out, index, type, data, dlen, perms, now);
		changed = true;
		n++;
	}
	/* The record borrowed from the txn must not be overwritten while read. */
	if (changed && !out.err)
		idn_txn_put(t, (const uint8_t *)na, strlen(na), buf, idn_wire_offset(&out), n);
done:
	free(buf);
}

static void upsert_admin(idn_txn_t *t, const char *na, uint32_t index, uint16_t perms,
			 const char *admin, uint32_t admin_index, uint32_t now)
{
	uint8_t adm[IDN_CFG_STR + 32];
	idn_wire_t aw;
	idn_wire_init(&aw, adm, sizeof(adm));
	idn_admin_t a = { perms, { (const uint8_t *)admin, (uint32_t)strlen(admin) }, admin_index };
	idn_admin_encode(&aw, &a);
	if (!aw.err)
		upsert_value(t, na, index, "HS_ADMIN", adm, idn_wire_offset(&aw), IDN_PERM_DEFAULT,
			     now);
}

/* The prefix handle 0.NA/<prefix>: HS_SITE (index 1), HS_ADMIN (index 100)
 * naming 300:0.NA/<prefix>, and at 300 the administrator's HS_PUBKEY; with
 * `admin_of` also an HS_ADMIN (101) for the parent's administrator. */
static void put_prefix_handle(idn_txn_t *t, const idn_node_t *n, const char *prefix,
			      const uint8_t *pub, size_t publen, const char *admin_of,
			      uint32_t now)
{
	char na[IDN_CFG_STR + 8];
	snprintf(na, sizeof(na), "0.NA/%s", prefix);
	upsert_value(t, na, 1, "HS_SITE", n->site, n->site_len, IDN_PERM_DEFAULT, now);
	upsert_admin(t, na, 100, IDN_ADM_ALL, na, 300, now);
	if (admin_of)
		upsert_admin(t, na, 101, IDN_ADM_ALL, admin_of, 300, now);
	if (publen)
		upsert_value(t, na, 300, "HS_PUBKEY", pub, publen, IDN_PERM_DEFAULT, now);
	idn_txn_home(t, (const uint8_t *)na, strlen(na));
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

/* A secret key file: its bytes without the trailing newline. */
static int read_secret(const char *path, uint8_t *buf, size_t cap, size_t *len, char *err,
		       size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "admin-secret-file %s: %s", path, strerror(errno));
		return -errno;
	}
	size_t n = fread(buf, 1, cap, f);
	bool more = fgetc(f) != EOF;
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (more || n == 0) {
		snprintf(err, errlen, "admin-secret-file %s: %s", path,
			 more ? "longer than 1024 bytes" : "empty");
		return IDN_ECONFIG;
	}
	*len = n;
	return IDN_OK;
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
	if (c->admin_key[0])
		snprintf(n->admin_key_path, sizeof(n->admin_key_path), "%s", c->admin_key);
	else
		snprintf(n->admin_key_path, sizeof(n->admin_key_path), "%s/admin-key.pem",
			 c->data_dir);
	ret = load_pubkey_blob(n->admin_key_path, !c->admin_key[0], n->admin_pub,
			       sizeof(n->admin_pub), &n->admin_pub_len, &n->admin_key_generated,
			       err, errlen);
	if (ret)
		return ret;
	uint8_t secret[1024];
	size_t secret_len = 0;
	if (c->admin_secret_file[0] &&
	    (ret = read_secret(c->admin_secret_file, secret, sizeof(secret), &secret_len, err,
			       errlen)))
		return ret;

	char ent[IDN_CFG_STR + 8], ent_na[IDN_CFG_STR + 16], na[IDN_CFG_STR + 8];
	snprintf(ent, sizeof(ent), "%s.12", c->node_prefix);
	snprintf(ent_na, sizeof(ent_na), "0.NA/%s", ent);
	snprintf(na, sizeof(na), "0.NA/%s", c->node_prefix);
	uint8_t demo_pub[2048];
	size_t demo_len = 0;
	if (c->demo) {
		bool gen = false;
		snprintf(n->demo_key_path, sizeof(n->demo_key_path), "%s/demo-enterprise-key.pem",
			 c->data_dir);
		ret = load_pubkey_blob(n->demo_key_path, true, demo_pub, sizeof(demo_pub), &demo_len,
				       &gen, err, errlen);
		if (ret)
			return ret;
	}

	idn_txn_t *t;
	ret = idn_txn_begin(s, &t);
	if (ret) {
		snprintf(err, errlen, "store: %s", idn_strerror(ret));
		return ret;
	}
	uint32_t now = (uint32_t)time(NULL);
	idn_bytes_t init;
	bool fresh = idn_txn_meta_get(t, "initialized", &init) == IDN_ENOTFOUND;
	/* The node's own prefix handle follows the config on every start: its
	 * site, its administrator and the administrator's keys. */
	put_prefix_handle(t, n, c->node_prefix, n->admin_pub, n->admin_pub_len, NULL, now);
	if (strcmp(c->role, "top") == 0) {
		/* A top-level node is the root: it homes 0.NA/0.NA, so every
		 * prefix handle 0.NA/x is its business, and the root's record
		 * names the node administrator (who, as a server administrator,
		 * admits secondary nodes: idnode prefix create 88.100 ...). */
		upsert_value(t, "0.NA/0.NA", 1, "HS_SITE", n->site, n->site_len, IDN_PERM_DEFAULT,
			     now);
		upsert_admin(t, "0.NA/0.NA", 100, IDN_ADM_ALL, na, 300, now);
		idn_txn_home(t, (const uint8_t *)"0.NA/0.NA", 9);
	}
	if (secret_len) {
		upsert_value(t, na, 301, "HS_SECKEY", secret, secret_len,
			     IDN_PERM_ADMIN_READ | IDN_PERM_ADMIN_WRITE, now);
		upsert_admin(t, na, 101, IDN_ADM_ALL, na, 301, now);
	}
	if (c->demo) {
		idn_record_t rec;
		if (fresh) {
			put_prefix_handle(t, n, ent, demo_pub, demo_len, na, now);
			put_demo(t, c->node_prefix, now);
		} else if (idn_txn_get(t, (const uint8_t *)ent_na, strlen(ent_na), &rec) == IDN_OK) {
			upsert_value(t, ent_na, 1, "HS_SITE", n->site, n->site_len, IDN_PERM_DEFAULT,
				     now);
		}
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

int idn_node_site(idn_node_t *n, const idn_config_t *c, uint16_t port, char *err, size_t errlen)
{
	return build_site(n, c, port, err, errlen);
}

void idn_node_deinit(idn_node_t *n)
{
	idn_pkey_free(n->key);
	n->key = NULL;
}
