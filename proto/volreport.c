/* volreport.c - the IDNODE_VOLUME value: report JSON text signed by the server key, carried as a string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "proto/crypto.h"
#include "proto/json.h"
#include "proto/msg.h"
#include "proto/record.h"
#include "proto/volreport.h"

static char *report_text(const idn_volreport_t *v)
{
	json_t *r = json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:i}", "node", v->node, "date", v->date,
			      "resolutions", (json_int_t)v->resolutions, "registrations",
			      (json_int_t)v->registrations, "identifiers",
			      (json_int_t)v->identifiers, "enterprises", (json_int_t)v->enterprises,
			      "version", v->version ? v->version : IDN_VOLUME_VERSION);
	if (!r)
		return NULL;
	char *s = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(r);
	return s;
}

int idn_volreport_build(const idn_volreport_t *v, const idn_pkey_t *key, char **out, size_t *len)
{
	char *text = report_text(v);
	if (!text)
		return IDN_ENOMEM;
	char *b64 = NULL;
	if (key) {
		uint8_t sig[1024];
		idn_wire_t w;
		idn_wire_init(&w, sig, sizeof(sig));
		idn_piece_t p = { text, strlen(text) };
		int ret = idn_pkey_sign(key, IDN_DIGEST_SHA256, &p, 1, &w);
		if (ret == IDN_OK && w.err)
			ret = w.err;
		if (ret) {
			free(text);
			return ret;
		}
		b64 = idn_base64_encode(sig, idn_wire_offset(&w));
	} else {
		b64 = strdup("");
	}
	json_t *doc = b64 ? json_pack("{s:s,s:s,s:s}", "report", text, "alg", "SHA256", "signature",
				      b64)
			  : NULL;
	free(text);
	free(b64);
	if (!doc)
		return IDN_ENOMEM;
	*out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (!*out)
		return IDN_ENOMEM;
	*len = strlen(*out);
	return IDN_OK;
}

static bool verify_with_site(const char *text, const uint8_t *sig, size_t slen,
			     const uint8_t *site, size_t site_len)
{
	idn_site_t *s = malloc(sizeof(*s));
	if (!s)
		return false;
	bool ok = false;
	if (idn_site_decode(site, site_len, s) == IDN_OK) {
		idn_piece_t p = { text, strlen(text) };
		for (uint32_t i = 0; i < s->n_servers && !ok; i++) {
			idn_pkey_t *k = NULL;
			const idn_bytes_t *pk = &s->servers[i].pubkey;
			if (idn_pkey_from_hs_pubkey(pk->p, pk->len, &k) != IDN_OK)
				continue;
			ok = idn_pkey_verify(k, IDN_DIGEST_SHA256, &p, 1, sig, slen) == IDN_OK;
			idn_pkey_free(k);
		}
	}
	free(s);
	return ok;
}

static uint64_t num(json_t *o, const char *k)
{
	json_int_t n = json_integer_value(json_object_get(o, k));
	return n > 0 ? (uint64_t)n : 0;
}

int idn_volreport_parse(const uint8_t *data, size_t len, const uint8_t *site, size_t site_len,
			idn_volreport_t *v, bool *signed_ok)
{
	memset(v, 0, sizeof(*v));
	*signed_ok = false;
	json_t *doc = json_loadb((const char *)data, len, 0, NULL);
	const char *text = doc ? json_string_value(json_object_get(doc, "report")) : NULL;
	json_t *r = text ? json_loads(text, 0, NULL) : NULL;
	if (!r || !json_is_object(r) || !json_is_string(json_object_get(r, "date"))) {
		json_decref(r);
		json_decref(doc);
		return IDN_EMALF;
	}
	const char *node = json_string_value(json_object_get(r, "node"));
	snprintf(v->node, sizeof(v->node), "%s", node ? node : "");
	snprintf(v->date, sizeof(v->date), "%s", json_string_value(json_object_get(r, "date")));
	v->resolutions = num(r, "resolutions");
	v->registrations = num(r, "registrations");
	v->identifiers = num(r, "identifiers");
	v->enterprises = num(r, "enterprises");
	v->version = (int)num(r, "version");
	const char *b64 = json_string_value(json_object_get(doc, "signature"));
	const char *alg = json_string_value(json_object_get(doc, "alg"));
	if (site && b64 && b64[0] && alg && strcmp(alg, "SHA256") == 0) {
		uint8_t *sig = NULL;
		long sl = idn_base64_decode(b64, strlen(b64), &sig);
		if (sl > 0)
			*signed_ok = verify_with_site(text, sig, (size_t)sl, site, site_len);
		free(sig);
	}
	json_decref(r);
	json_decref(doc);
	return IDN_OK;
}
