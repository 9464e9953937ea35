/* reader.c - identifiers to register: read from JSON lines or CSV files, or from command-line value specs. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "client/reader.h"
#include "proto/json.h"
#include "proto/msg.h"
#include "proto/record.h"

/* A create request cannot be larger than a message. */
#define VALUES_CAP IDN_MAX_MESSAGE_LEN
#define MAX_FIELDS 16

/* One CSV row: its raw text, its decoded fields, or why it is bad. */
typedef struct {
	char *raw;
	size_t raw_len, raw_cap;
	char *dec;                /* decoded fields back to back */
	size_t dec_cap;
	size_t off[MAX_FIELDS], len[MAX_FIELDS];
	int n;
	unsigned long long first, last;
	char err[256];
} row_t;

struct idn_reader {
	FILE *in;
	const char *name;
	int format;
	uint32_t now;
	unsigned long long line, bytes;
	char *buf;                /* getline */
	size_t cap;
	uint8_t *vals;
	char *handle;
	size_t handle_cap;
	char *text;
	size_t text_len, text_cap;
	/* CSV */
	bool header_done;
	int col[4];               /* handle, index, type, data */
	row_t row;                /* the lookahead row */
	bool have_row;
};

int idn_reader_open(FILE *in, const char *name, int format, uint32_t now, idn_reader_t **out)
{
	idn_reader_t *r = calloc(1, sizeof(*r));
	if (!r)
		return IDN_ENOMEM;
	r->in = in;
	r->name = name;
	r->format = format;
	r->now = now;
	r->vals = malloc(VALUES_CAP);
	if (!r->vals) {
		free(r);
		return IDN_ENOMEM;
	}
	*out = r;
	return IDN_OK;
}

void idn_reader_close(idn_reader_t *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r->vals);
	free(r->handle);
	free(r->text);
	free(r->row.raw);
	free(r->row.dec);
	free(r);
}

unsigned long long idn_reader_bytes(const idn_reader_t *r)
{
	return r->bytes;
}

static bool grow(char **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap : 256;
	while (n < need)
		n *= 2;
	char *q = realloc(*p, n);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

static void say(char *err, size_t errlen, const char *name, unsigned long long line,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void say(char *err, size_t errlen, const char *name, unsigned long long line,
		const char *fmt, ...)
{
	int n = snprintf(err, errlen, "%s:%llu: ", name, line);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static int set_handle(idn_reader_t *r, const char *h, size_t n)
{
	if (!grow(&r->handle, &r->handle_cap, n + 1))
		return IDN_ENOMEM;
	memcpy(r->handle, h, n);
	r->handle[n] = 0;
	return IDN_OK;
}

static int set_text(idn_reader_t *r, const char *t, size_t n, bool append)
{
	size_t at = append ? r->text_len : 0, sep = append && at ? 1 : 0;
	if (!grow(&r->text, &r->text_cap, at + sep + n + 1))
		return IDN_ENOMEM;
	if (sep)
		r->text[at] = '\n';
	memcpy(r->text + at + sep, t, n);
	r->text_len = at + sep + n;
	r->text[r->text_len] = 0;
	return IDN_OK;
}

/* Read one physical line without its terminator; 0 at the end. */
static ssize_t read_line(idn_reader_t *r)
{
	ssize_t got = getline(&r->buf, &r->cap, r->in);
	if (got < 0)
		return ferror(r->in) ? -EIO : 0;
	r->line++;
	r->bytes += (unsigned long long)got;
	size_t len = (size_t)got;
	while (len > 0 && (r->buf[len - 1] == '\n' || r->buf[len - 1] == '\r'))
		len--;
	r->buf[len] = 0;
	return (ssize_t)len;
}

int idn_values_check_indexes(idn_bytes_t values, uint32_t n, char *err, size_t errlen)
{
	/* Quadratic, but n is small for all but a few identifiers. */
	idn_wire_t w, w2;
	idn_wire_init_ro(&w, values.p, values.len);
	for (uint32_t i = 0; i < n; i++) {
		idn_value_t v, v2;
		if (idn_value_decode(&w, &v))
			return IDN_EINVAL;
		w2 = w;
		for (uint32_t j = i + 1; j < n; j++) {
			if (idn_value_decode(&w2, &v2))
				return IDN_EINVAL;
			if (v2.index == v.index) {
				snprintf(err, errlen, "index %u appears twice", v.index);
				return IDN_EINVAL;
			}
		}
	}
	return IDN_OK;
}

/* ------------------------------------------------------------------ */
/* One value from its parts. */

static int put_value(idn_wire_t *w, const char *idx, size_t ilen, const char *type, size_t tlen,
		     const char *data, size_t dlen, uint32_t now, char *why, size_t whylen)
{
	unsigned long long n = 0;
	bool ok = ilen > 0 && ilen <= 10;
	for (size_t i = 0; ok && i < ilen; i++) {
		ok = isdigit((unsigned char)idx[i]);
		n = n * 10 + (unsigned)(idx[i] - '0');
	}
	if (!ok || n == 0 || n > 0x7fffffffULL) {
		snprintf(why, whylen, "index '%.*s' must be a positive integer", (int)(ilen > 20 ? 20 : ilen),
			 idx);
		return IDN_EINVAL;
	}
	if (tlen == 0 || tlen > IDN_MAX_TYPE_LEN) {
		snprintf(why, whylen, "type must be 1 to %d bytes", IDN_MAX_TYPE_LEN);
		return IDN_EINVAL;
	}
	idn_value_t v = {
		.index = (uint32_t)n,
		.timestamp = now,
		.ttl_type = IDN_TTL_RELATIVE,
		.ttl = 86400,
		.perms = IDN_PERM_DEFAULT,
		.type = { (const uint8_t *)type, (uint32_t)tlen },
		.data = { (const uint8_t *)data, (uint32_t)dlen },
	};
	idn_value_encode(w, &v);
	if (w->err) {
		snprintf(why, whylen, "values too large for one request");
		return IDN_ELIMIT;
	}
	return IDN_OK;
}

int idn_value_spec_encode(const char *spec, uint32_t now, idn_wire_t *w, char *err, size_t errlen)
{
	const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2) {
		snprintf(err, errlen, "value '%s' is not INDEX:TYPE:DATA", spec);
		return IDN_EINVAL;
	}
	return put_value(w, spec, (size_t)(c1 - spec), c1 + 1, (size_t)(c2 - c1 - 1), c2 + 1,
			 strlen(c2 + 1), now, err, errlen);
}

int idn_values_json_file(const char *path, uint32_t now, idn_wire_t *w, uint32_t *n, char *err,
			 size_t errlen)
{
	json_error_t je;
	json_t *doc = json_load_file(path, 0, &je);
	if (!doc) {
		snprintf(err, errlen, "%s:%d: %s", path, je.line, je.text);
		return IDN_EINVAL;
	}
	json_t *arr = json_is_object(doc) ? json_object_get(doc, "values") : doc;
	int ret = IDN_OK;
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "%s: expected an array of values or {\"values\": [...]}", path);
		ret = IDN_EINVAL;
	}
	size_t i;
	json_t *v;
	char why[256];
	json_array_foreach(ret ? NULL : arr, i, v) {
		if ((ret = idn_value_from_json(v, now, w, why, sizeof(why)))) {
			snprintf(err, errlen, "%s: value %zu: %s", path, i + 1, why);
			break;
		}
		(*n)++;
	}
	json_decref(doc);
	return ret;
}

/* ------------------------------------------------------------------ */
/* JSON lines. */

static int next_jsonl(idn_reader_t *r, idn_record_t *rec, char *err, size_t errlen)
{
	for (;;) {
		ssize_t len = read_line(r);
		if (len <= 0 && feof(r->in))
			return (int)len;
		if (len < 0)
			return (int)len;
		size_t k = 0;
		while (k < (size_t)len && (r->buf[k] == ' ' || r->buf[k] == '\t'))
			k++;
		if (k == (size_t)len || r->buf[k] == '#')
			continue;
		rec->first_line = rec->last_line = r->line;
		if (set_text(r, r->buf, (size_t)len, false))
			return IDN_ENOMEM;
		rec->text = r->text;
		rec->text_len = r->text_len;
		idn_wire_t w;
		idn_wire_init(&w, r->vals, VALUES_CAP);
		idn_json_record_t jr;
		char why[512];
		int ret = idn_record_from_json_line(r->buf, (size_t)len, r->now, &w, &jr, why,
						    sizeof(why));
		if (!ret && (jr.handle_len == 0 || jr.handle_len > IDN_MAX_HANDLE_LEN)) {
			snprintf(why, sizeof(why), "handle must be 1 to %d bytes", IDN_MAX_HANDLE_LEN);
			ret = IDN_EINVAL;
		}
		idn_bytes_t vals = { r->vals, (uint32_t)idn_wire_offset(&w) };
		if (!ret)
			ret = idn_values_check_indexes(vals, jr.n_values, why, sizeof(why));
		if (!ret)
			ret = set_handle(r, jr.handle, jr.handle_len);
		if (jr.doc)
			json_decref(jr.doc);
		if (ret == IDN_ENOMEM)
			return ret;
		if (ret) {
			say(err, errlen, r->name, r->line, "%s", why);
			return IDN_EINVAL;
		}
		rec->handle = r->handle;
		rec->handle_len = strlen(r->handle);
		rec->n_values = jr.n_values;
		rec->values = vals;
		return 1;
	}
}

/* ------------------------------------------------------------------ */
/* CSV (RFC 4180). */

/* Read one row (a quoted field may span lines) and split it into fields.
 * 1 = a row (possibly bad: row->err set), 0 = end. */
static int read_row(idn_reader_t *r, row_t *row)
{
	row->raw_len = 0;
	row->n = 0;
	row->err[0] = 0;
	bool quoted = false, start = true;
	for (;;) {
		ssize_t len = read_line(r);
		if (len < 0)
			return (int)len;
		if (len == 0 && feof(r->in) && row->raw_len == 0 && !quoted)
			return 0;
		if (row->raw_len == 0)
			row->first = r->line;
		row->last = r->line;
		size_t sep = row->raw_len ? 1 : 0;
		if (!grow(&row->raw, &row->raw_cap, row->raw_len + sep + (size_t)len + 1))
			return IDN_ENOMEM;
		if (sep)
			row->raw[row->raw_len] = '\n';
		memcpy(row->raw + row->raw_len + sep, r->buf, (size_t)len);
		row->raw_len += sep + (size_t)len;
		row->raw[row->raw_len] = 0;
		/* A quote opens a field only at its start (a stray one inside an
		 * unquoted field is an error found when splitting, and must not
		 * swallow the next lines); inside, "" is an escaped quote. */
		for (ssize_t i = 0; i < len; i++) {
			char ch = r->buf[i];
			if (quoted) {
				if (ch == '"' && i + 1 < len && r->buf[i + 1] == '"')
					i++;
				else if (ch == '"')
					quoted = false, start = false;
			} else if (ch == ',') {
				start = true;
			} else {
				quoted = start && ch == '"';
				start = false;
			}
		}
		if (!quoted)
			break;
		start = false; /* the newline is data of the open field */
		if (feof(r->in)) {
			snprintf(row->err, sizeof(row->err), "quoted field not closed");
			return 1;
		}
	}
	if (row->raw_len == 0)
		return 1; /* blank: n = 0 */
	if (row->dec_cap < row->raw_len + 1) {
		char *d = realloc(row->dec, row->raw_len + 1);
		if (!d)
			return IDN_ENOMEM;
		row->dec = d;
		row->dec_cap = row->raw_len + 1;
	}
	const char *p = row->raw, *end = row->raw + row->raw_len;
	size_t o = 0;
	for (;;) {
		if (row->n == MAX_FIELDS) {
			snprintf(row->err, sizeof(row->err), "more than %d fields", MAX_FIELDS);
			return 1;
		}
		row->off[row->n] = o;
		if (p < end && *p == '"') {
			for (p++;; p++) {
				if (p == end) {
					snprintf(row->err, sizeof(row->err), "quoted field not closed");
					return 1;
				}
				if (*p == '"') {
					if (p + 1 < end && p[1] == '"') {
						row->dec[o++] = '"';
						p++;
						continue;
					}
					p++;
					break;
				}
				row->dec[o++] = *p;
			}
			if (p < end && *p != ',') {
				snprintf(row->err, sizeof(row->err),
					 "field %d: text after a closing quote", row->n + 1);
				return 1;
			}
		} else {
			for (; p < end && *p != ','; p++) {
				if (*p == '"') {
					snprintf(row->err, sizeof(row->err),
						 "field %d: quote inside an unquoted field", row->n + 1);
					return 1;
				}
				row->dec[o++] = *p;
			}
		}
		row->len[row->n] = o - row->off[row->n];
		row->n++;
		if (p == end)
			return 1;
		p++; /* the comma */
	}
}

static const char *field(const row_t *row, int i, size_t *len)
{
	*len = row->len[i];
	return row->dec + row->off[i];
}

static int csv_header(idn_reader_t *r, char *err, size_t errlen)
{
	static const char *names[4] = { "handle", "index", "type", "data" };
	row_t *h = &r->row;
	int ret;
	do {
		ret = read_row(r, h);
	} while (ret == 1 && h->n == 0 && !h->err[0]);
	if (ret <= 0) {
		if (ret == 0)
			say(err, errlen, r->name, r->line, "empty input (no CSV header)");
		return ret == 0 ? IDN_EMALF : ret;
	}
	for (int c = 0; c < 4; c++)
		r->col[c] = -1;
	for (int i = 0; i < h->n && !h->err[0]; i++) {
		size_t n;
		const char *f = field(h, i, &n);
		while (n > 0 && f[n - 1] == ' ')
			n--;
		while (n > 0 && *f == ' ')
			f++, n--;
		for (int c = 0; c < 4; c++)
			if (strlen(names[c]) == n && strncasecmp(f, names[c], n) == 0)
				r->col[c] = i;
	}
	for (int c = 0; c < 4; c++)
		if (r->col[c] < 0 || h->err[0]) {
			say(err, errlen, r->name, h->first,
			    "the CSV header must name the columns handle,index,type,data");
			return IDN_EMALF;
		}
	r->header_done = true;
	return IDN_OK;
}

/* The row's handle, or NULL when it has none. */
static const char *row_handle(const idn_reader_t *r, const row_t *row, size_t *n)
{
	if (row->err[0] || row->n <= r->col[0])
		return NULL;
	return field(row, r->col[0], n);
}

/* Append the row's value; false with row->err set when it is bad. */
static bool row_value(idn_reader_t *r, row_t *row, idn_wire_t *w)
{
	if (row->err[0])
		return false;
	int need = 0;
	for (int c = 0; c < 4; c++)
		if (r->col[c] >= need)
			need = r->col[c] + 1;
	if (row->n < need) {
		snprintf(row->err, sizeof(row->err), "%d fields, expected %d", row->n, need);
		return false;
	}
	size_t hl, il, tl, dl;
	field(row, r->col[0], &hl);
	const char *i = field(row, r->col[1], &il), *t = field(row, r->col[2], &tl),
		   *d = field(row, r->col[3], &dl);
	if (hl == 0 || hl > IDN_MAX_HANDLE_LEN) {
		snprintf(row->err, sizeof(row->err), "handle must be 1 to %d bytes",
			 IDN_MAX_HANDLE_LEN);
		return false;
	}
	/* The handle is kept as a C string: a NUL would silently cut it to
	 * another (or an empty) identifier. */
	if (memchr(field(row, r->col[0], &hl), 0, hl)) {
		snprintf(row->err, sizeof(row->err), "handle contains a NUL byte");
		return false;
	}
	return put_value(w, i, il, t, tl, d, dl, r->now, row->err, sizeof(row->err)) == IDN_OK;
}

static int next_csv(idn_reader_t *r, idn_record_t *rec, char *err, size_t errlen)
{
	int ret;
	if (!r->header_done && (ret = csv_header(r, err, errlen)))
		return ret;
	row_t *row = &r->row;
	/* The first row of the record: the lookahead, else a new one. */
	do {
		if (!r->have_row && (ret = read_row(r, row)) <= 0)
			return ret;
		r->have_row = false;
	} while (row->n == 0 && !row->err[0]);

	idn_wire_t w;
	idn_wire_init(&w, r->vals, VALUES_CAP);
	rec->first_line = row->first;
	rec->n_values = 0;
	char bad[320] = "";
	unsigned long long bad_line = 0;
	size_t hl;
	const char *h = row_handle(r, row, &hl);
	if (h && (ret = set_handle(r, h, hl)))
		return ret;
	if ((ret = set_text(r, row->raw, row->raw_len, false)))
		return ret;
	if (row_value(r, row, &w)) {
		rec->n_values++;
	} else {
		snprintf(bad, sizeof(bad), "%s", row->err);
		bad_line = row->first;
	}
	rec->last_line = row->last;
	/* A row that cannot be split has no handle: it is a record of its own. */
	while (h) {
		if ((ret = read_row(r, row)) < 0)
			return ret;
		if (ret == 0)
			break;
		if (row->n == 0 && !row->err[0])
			continue;
		size_t nl;
		const char *nh = row_handle(r, row, &nl);
		if (!nh || nl != strlen(r->handle) || memcmp(nh, r->handle, nl) != 0) {
			r->have_row = true;
			break;
		}
		if ((ret = set_text(r, row->raw, row->raw_len, true)))
			return ret;
		rec->last_line = row->last;
		if (bad[0])
			continue; /* the rest of a bad identifier is skipped with it */
		if (row_value(r, row, &w)) {
			rec->n_values++;
		} else {
			snprintf(bad, sizeof(bad), "%s", row->err);
			bad_line = row->first;
		}
	}
	rec->text = r->text;
	rec->text_len = r->text_len;
	rec->handle = h ? r->handle : "";
	rec->handle_len = h ? strlen(r->handle) : 0;
	rec->values = (idn_bytes_t){ r->vals, (uint32_t)idn_wire_offset(&w) };
	if (!bad[0] && idn_values_check_indexes(rec->values, rec->n_values, bad, sizeof(bad)))
		bad_line = rec->first_line;
	if (bad[0]) {
		say(err, errlen, r->name, bad_line, "%s", bad);
		return IDN_EINVAL;
	}
	return 1;
}

int idn_reader_next(idn_reader_t *r, idn_record_t *rec, char *err, size_t errlen)
{
	memset(rec, 0, sizeof(*rec));
	if (errlen)
		err[0] = 0;
	return r->format == IDN_INPUT_CSV ? next_csv(r, rec, err, errlen)
					  : next_jsonl(r, rec, err, errlen);
}
