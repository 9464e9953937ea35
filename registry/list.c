/* list.c - list handles under a prefix (OC 105) and homed prefixes (OC 302): continuous answers of 50 names. */
#include <stdlib.h>
#include <string.h>

#include "registry/reg_int.h"

/* Names collected for the answer: one flat buffer of (u16 len, bytes). */
typedef struct {
	uint8_t *buf;
	size_t len, cap;
	uint32_t count;
	int err;
} names_t;

static int names_add(void *arg, idn_bytes_t name)
{
	names_t *n = arg;
	size_t need = 2 + name.len;
	if (n->len + need > n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 65536;
		while (cap < n->len + need)
			cap *= 2;
		uint8_t *p = realloc(n->buf, cap);
		if (!p) {
			n->err = IDN_ENOMEM;
			return 1;
		}
		n->buf = p;
		n->cap = cap;
	}
	n->buf[n->len] = (uint8_t)(name.len >> 8);
	n->buf[n->len + 1] = (uint8_t)name.len;
	memcpy(n->buf + n->len + 2, name.p, name.len);
	n->len += need;
	n->count++;
	return 0;
}

typedef struct {
	idn_job_t *job;
	const idn_msg_t *req;
	names_t *names;
} list_arg_t;

/* The answer: messages of LIST_PER_MSG names, CN set on all but the last;
 * an empty list is one message with n = 0. */
static int build_list(idn_wire_t *w, void *arg)
{
	list_arg_t *a = arg;
	size_t pos = 0;
	uint32_t left = a->names->count;
	do {
		uint32_t k = left < LIST_PER_MSG ? left : LIST_PER_MSG;
		left -= k;
		idn_resp_opts_t o = { .opcode = a->req->hdr.opcode, .rcode = IDN_RC_SUCCESS,
				      .extra_flags = left ? IDN_OF_CN : 0 };
		size_t start = idn_resp_begin(w, a->req, &a->job->ctx, &o);
		idn_wire_put_u32(w, k);
		for (uint32_t i = 0; i < k; i++) {
			size_t nl = ((size_t)a->names->buf[pos] << 8) | a->names->buf[pos + 1];
			idn_wire_put_bstr(w, a->names->buf + pos + 2, nl);
			pos += 2 + nl;
		}
		idn_resp_end(w, start, a->req, &a->job->ctx);
	} while (left && w->err == IDN_OK);
	return w->err;
}

void reg_list(idn_registry_t *r, idn_job_t *job, const idn_msg_t *m, const idn_identity_t *who)
{
	idn_reader_t *rd = (idn_reader_t *)job->reader;
	reg_view_t view = { NULL, rd };
	names_t names = { 0 };
	idn_bytes_t h;
	if (idn_handle_body_decode(m->body.p, m->body.len, &h) != IDN_OK) {
		reg_answer_error(job, m, IDN_RC_PROTOCOL_ERROR, "Malformed request body");
		return;
	}
	if (m->hdr.opcode == IDN_OC_LIST_HOMED_NAS) {
		if (!reg_is_server_admin(r, who)) {
			reg_answer_error(job, m, IDN_RC_INVALID_ADMIN,
					 "Only server administrators may list homed prefixes");
			return;
		}
		idn_store_foreach_homed(r->o.store, names_add, &names);
	} else {
		/* "0.NA/88.100.12" or "88.100.12": the handles 88.100.12/... */
		const uint8_t *p = h.p;
		size_t pl = h.len;
		if (pl > NA_PREFIX_LEN && memchr(p, '/', pl) && strncasecmp((const char *)p, NA_PREFIX, NA_PREFIX_LEN) == 0) {
			p += NA_PREFIX_LEN;
			pl -= NA_PREFIX_LEN;
		}
		uint8_t na[IDN_STORE_MAX_KEY];
		if (pl == 0 || memchr(p, '/', pl) || pl + NA_PREFIX_LEN > sizeof(na)) {
			reg_answer_error(job, m, IDN_RC_INVALID_HANDLE, "Not a prefix");
			return;
		}
		memcpy(na, NA_PREFIX, NA_PREFIX_LEN);
		memcpy(na + NA_PREFIX_LEN, p, pl);
		idn_record_t prec;
		bool have = idn_reader_get(rd, na, NA_PREFIX_LEN + pl, &prec) == IDN_OK;
		if (!reg_allowed(r, &view, have ? &prec : NULL, who, IDN_ADM_LIST_HANDLES)) {
			reg_answer_error(job, m, IDN_RC_INVALID_ADMIN,
					 "Not allowed to list handles of this prefix");
			return;
		}
		idn_reader_list(rd, p, pl, NULL, 0, names_add, &names);
	}
	if (names.err) {
		free(names.buf);
		reg_answer_error(job, m, IDN_RC_SERVER_TOO_BUSY, "Out of memory");
		return;
	}
	list_arg_t a = { job, m, &names };
	reg_answer_built(job, build_list, &a, names.len + names.count * 4 +
						      (names.count / LIST_PER_MSG + 1) * 128);
	free(names.buf);
}
