/* report_nodes.c - `idnode report --nodes` on a top: the signed daily volume reports its secondaries stored in 0.NA/<prefix> handles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "proto/record.h"
#include "proto/volreport.h"

typedef struct {
	char **keys;
	size_t n, cap;
} keys_t;

static int on_key(void *arg, idn_bytes_t key)
{
	keys_t *k = arg;
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 64;
		char **v = realloc(k->keys, cap * sizeof(*v));
		if (!v)
			return 1;
		k->keys = v;
		k->cap = cap;
	}
	char *s = malloc(key.len + 1);
	if (!s)
		return 1;
	memcpy(s, key.p, key.len);
	s[key.len] = 0;
	k->keys[k->n++] = s;
	return 0;
}

/* The report value and the site of one record, if it has a report. */
static bool find_report(const idn_record_t *rec, idn_bytes_t *rep, idn_bytes_t *site)
{
	idn_wire_t in;
	idn_wire_init_ro(&in, rec->values.p, rec->values.len);
	rep->len = site->len = 0;
	for (uint32_t i = 0; i < rec->count; i++) {
		idn_value_t v;
		if (idn_value_decode(&in, &v) != IDN_OK)
			break;
		if (idn_type_is(v.type, IDN_VOLUME_TYPE))
			*rep = v.data;
		else if (idn_type_is(v.type, "HS_SITE") && site->len == 0)
			*site = v.data;
	}
	return rep->len > 0;
}

int rpt_nodes(idn_store_t *s, bool json)
{
	idn_reader_t *rd;
	int ret = idn_reader_new_cached(s, 0, &rd);
	if (ret)
		return ret;
	keys_t k = { 0 };
	if ((ret = idn_reader_begin(rd)) == IDN_OK) {
		ret = idn_reader_list(rd, (const uint8_t *)"0.NA", 4, NULL, 0, on_key, &k);
		json_t *arr = json ? json_array() : NULL;
		if (!json)
			printf("%-20s %-10s %14s %13s %13s %11s  %s\n", "node", "date", "resolutions",
			       "registrations", "identifiers", "enterprises", "signature");
		size_t shown = 0;
		for (size_t i = 0; i < k.n && ret == IDN_OK; i++) {
			idn_record_t rec;
			idn_bytes_t rep, site;
			if (idn_reader_get(rd, (const uint8_t *)k.keys[i], strlen(k.keys[i]), &rec) ||
			    !find_report(&rec, &rep, &site))
				continue;
			idn_volreport_t v;
			bool ok = false;
			if (idn_volreport_parse(rep.p, rep.len, site.len ? site.p : NULL, site.len, &v,
						&ok) != IDN_OK)
				continue;
			shown++;
			if (json) {
				json_array_append_new(
					arr, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:b}", "handle",
						       k.keys[i], "node", v.node, "date", v.date,
						       "resolutions", (json_int_t)v.resolutions,
						       "registrations", (json_int_t)v.registrations,
						       "identifiers", (json_int_t)v.identifiers,
						       "enterprises", (json_int_t)v.enterprises,
						       "signature_ok", ok));
			} else {
				printf("%-20s %-10s %14llu %13llu %13llu %11llu  %s\n", v.node, v.date,
				       (unsigned long long)v.resolutions,
				       (unsigned long long)v.registrations,
				       (unsigned long long)v.identifiers,
				       (unsigned long long)v.enterprises,
				       ok ? "verified (HS_SITE key)" : "NOT VERIFIED");
			}
		}
		if (json)
			cli_json_print(json_pack("{s:o}", "nodes", arr));
		else if (!shown)
			printf("(no IDNODE_VOLUME reports in 0.NA/<prefix> handles)\n");
		idn_reader_end(rd);
	}
	for (size_t i = 0; i < k.n; i++)
		free(k.keys[i]);
	free(k.keys);
	idn_reader_free(rd);
	return ret;
}
