/* tcp_conn.h - internal: a TCP connection, its ordered answer slots and its jobs, shared by tcp.c and tcp_jobs.c. */
#ifndef IDN_TCP_CONN_H
#define IDN_TCP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/op.h"
#include "resolver/worker.h"

#define OUT_HIGH (4u << 20)   /* stop reading while this much output (or queued answers) waits */
#define CONN_MAX_JOBS 256     /* outstanding jobs per connection before reading stops */

/*
 * Answers on a connection go out in request order. While no job is
 * outstanding, answers are produced straight into the output buffer. Once a
 * request is handed to the dispatch table its place is held by a slot at the
 * tail of the connection's FIFO; answers to later requests produced in the
 * meantime are copied into slots of their own behind it. Complete slots at
 * the head are moved into the output buffer in order.
 */
typedef struct slot {
	struct slot *next;
	struct pending *job;      /* NULL: a copied synchronous answer */
	const uint8_t *data;      /* the answer bytes (job->resp for a job) */
	size_t len;
	size_t cost;              /* counted in conn.slot_bytes */
	bool ready;
	bool close;               /* close the connection after this answer */
} slot_t;

/* One request handed to the dispatch table; the request bytes follow. */
typedef struct pending {
	idn_job_t job;
	slot_t slot;
	struct conn *c;           /* NULL: a UDP request, answered to job.peer */
	socklen_t peerlen;        /* UDP: length of job.peer */
	struct pending *done_next; /* the worker's completion list */
	bool orphan;              /* its slot was dropped: free it when it returns */
	uint8_t req[];
} pending_t;

typedef struct conn {
	struct conn *prev, *next;  /* the worker's connections, live and dead */
	worker_t *w;
	int fd;
	struct event *ev;
	bool want_write;
	bool closing;             /* close once the output is flushed */
	bool dead;                /* closed, kept until its jobs come back */
	bool kicked;              /* on the worker's list of connections to update */
	struct conn *kick_next;
	uint32_t last_active;     /* Unix seconds */
	uint32_t in_since;        /* when the partial request in `in` began (0 = none) */
	uint32_t out_since;       /* when the pending output last moved (0 = none pending) */
	uint64_t src;             /* rate-limit / connection-count key of the peer */
	bool counted;             /* holds a slot in the server's connection counts */
	struct sockaddr_storage peer;
	uint8_t *in;
	size_t in_len, in_cap;
	uint8_t *out;
	size_t out_off, out_len, out_cap;

	idn_conn_state_t state;   /* the handler's per-connection state */
	slot_t *slot_head, *slot_tail;
	size_t slot_bytes;
	unsigned outstanding;     /* jobs submitted and not yet returned */
} conn_t;

/* tcp.c */
bool conn_out_reserve(conn_t *c, size_t n);
/* Close the connection: freed now, or marked dead while jobs are outstanding. */
void conn_close(conn_t *c);
/* Unlink and free (no job may be outstanding, or the worker is torn down). */
void conn_free(conn_t *c);
/* After answers were queued: flush, close or re-arm, resume reading. */
void conn_update(conn_t *c);

/* tcp_jobs.c */
/* The `n` bytes just produced at the end of the output buffer become a slot
 * when earlier answers are still pending (else they stay where they are).
 * Returns false when out of memory (the connection is then closing). */
bool slots_hold_tail(conn_t *c, size_t n, bool close);
/* Move complete head slots into the output buffer. */
void slots_drain(conn_t *c);
/* Drop every slot (closing or closed connection); jobs out become orphans. */
void slots_drop(conn_t *c);
/* Hand the request q->msg (at msg, len bytes) to the dispatch table.
 * Returns false to stop reading. */
bool job_submit(conn_t *c, const uint8_t *msg, size_t len);
/* A job for q->async_to with a copy of the request (NULL when out of
 * memory or the copy does not decode); the caller fills the transport's
 * fields and hands it over with job_dispatch(). */
pending_t *job_new(worker_t *w, const uint8_t *msg, size_t len, int transport);
void job_dispatch(worker_t *w, pending_t *p);

/* udp.c: send a UDP job's answer to its peer (the worker's thread). */
void udp_job_answer(worker_t *w, pending_t *p);
/* Write an error answer at the end of the output buffer; returns its length (0 on failure). */
size_t conn_put_error(conn_t *c, const idn_msg_t *req, const idn_resp_ctx_t *ctx, uint32_t rcode,
		      const char *text);

int jobs_setup(worker_t *w);
/* Free completions that came back after the loop stopped, then the rest. */
void jobs_teardown(worker_t *w);

#endif
