/* import.h - `idnode import` internals: the shared job source, the completion sequencer and the per-connection workers. */
#ifndef IDN_CLI_IMPORT_H
#define IDN_CLI_IMPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "client/admin.h"
#include "client/reader.h"

/* One identifier to create, owned by the worker that pulled it. */
typedef struct {
	unsigned long long seq;            /* order of reading, from 0 */
	unsigned long long first_line, last_line;
	char *handle;
	uint8_t *values;                   /* wire form, HS_ADMIN added when missing */
	size_t values_len;
	uint32_t n_values;
	bool added_admin;                  /* the input had no HS_ADMIN: we added one */
	char *text;                        /* the input line(s), for the report */
	size_t text_len;
} imp_job_t;

enum { IMP_CREATED, IMP_EXISTING, IMP_FAILED };

typedef struct {
	/* Settings (read-only once workers run). */
	const char *server;
	const idn_auth_t *auth;
	int timeout_ms;
	unsigned window;
	bool overwrite;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* Input, read under mu. */
	idn_reader_t *rd;
	unsigned long long skip_below;     /* --resume: records ending before this line are done */
	bool eof, stop;
	char stop_msg[800];
	/* Sequencer: records done[seq - low] for seq in [low, next_seq). */
	bool *done;
	unsigned long long *first;
	size_t cap;
	unsigned long long next_seq, low, end_line;
	/* Outcomes. */
	unsigned long long created, existing, failed, bad, skipped;
	FILE *report;                      /* failed lines */
} imp_t;

/* The next identifier, or NULL at the end of the input or after a stop.
 * Bad input records are reported here and never returned. When a job far
 * behind holds the sequencer's low mark (its window is full), a caller
 * with jobs of its own in flight must not wait: that job may be one of
 * them, its answer unread. With may_wait false it gets NULL and *busy set
 * instead, reads its answers and asks again. */
imp_job_t *imp_pull(imp_t *m, bool may_wait, bool *busy);
void imp_job_free(imp_job_t *j);
/* Record the outcome of a job (report failures) and free it. */
void imp_finish(imp_t *m, imp_job_t *j, int outcome, uint32_t rc, const char *msg);
/* Stop handing out jobs (a connection could not be kept); the first message wins. */
void imp_stop(imp_t *m, const char *msg);
/* The line below which every input line is finished. Call under mu. */
unsigned long long imp_progress_line(const imp_t *m);

/* A worker thread: one TCP connection, logged in once, `window` requests in flight. */
void *imp_worker(void *arg); /* arg: imp_t * */

#endif
