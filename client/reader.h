/* reader.h - identifiers to register: read from JSON lines or CSV files, or from command-line value specs. */
#ifndef IDN_READER_H
#define IDN_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "proto/wire.h"

/*
 * Rules of use:
 * - Values come out in wire form (proto/record.h), ready for a create
 *   request; defaults as CNRI's tools: permissions 1110 (admin read/write,
 *   public read), relative TTL 86400, timestamp `now`.
 * - Errors describe the first problem in `err` and name the input and the
 *   line ("in.csv:12: index must be a positive integer"); a bad record is
 *   skipped and the next call goes on after it.
 */

enum { IDN_INPUT_JSONL = 0, IDN_INPUT_CSV = 1 };

/* One identifier. Everything borrows from the reader until the next call. */
typedef struct {
	const char *handle;
	size_t handle_len;
	uint32_t n_values;
	idn_bytes_t values;              /* n values in wire form */
	unsigned long long first_line;   /* 1-based physical lines it spans */
	unsigned long long last_line;
	const char *text;                /* the line(s) as read, rows joined by '\n' */
	size_t text_len;
} idn_record_t;

typedef struct idn_reader idn_reader_t;

/*
 * JSON lines: one {"handle": ..., "values": [...]} per line (the shape of
 * `idnode load`); blank lines and '#' comments skipped.
 * CSV (RFC 4180, quoted fields with "" and embedded newlines): a header
 * naming the columns handle, index, type, data (any order, case-insensitive)
 * then one value per row; consecutive rows with the same handle form one
 * identifier; data is the value's bytes as text.
 * `name` is used in messages. Errors: IDN_ENOMEM.
 */
int idn_reader_open(FILE *in, const char *name, int format, uint32_t now, idn_reader_t **out);
/* 1 with *rec filled, 0 at the end, IDN_EINVAL for a bad record (err says
 * why; rec->first_line/last_line/text describe it), -errno on a read error. */
int idn_reader_next(idn_reader_t *r, idn_record_t *rec, char *err, size_t errlen);
/* Bytes consumed so far (progress estimates). */
unsigned long long idn_reader_bytes(const idn_reader_t *r);
void idn_reader_close(idn_reader_t *r);

/* --value=INDEX:TYPE:DATA (DATA may contain ':', is taken as text): one
 * value at the cursor. IDN_EINVAL with err for a bad spec. */
int idn_value_spec_encode(const char *spec, uint32_t now, idn_wire_t *w, char *err, size_t errlen);

/* A JSON file holding a value array, or an object with "values" (CNRI REST
 * shape): its values at the cursor, count added to *n. */
int idn_values_json_file(const char *path, uint32_t now, idn_wire_t *w, uint32_t *n, char *err,
			 size_t errlen);

/* IDN_EINVAL (err says which) when two of the n values share an index. */
int idn_values_check_indexes(idn_bytes_t values, uint32_t n, char *err, size_t errlen);

#endif
