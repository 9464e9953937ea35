/* reg_int.h - internal: the registry's shared state, its pending operations and the module-internal functions. */
#ifndef IDN_REG_INT_H
#define IDN_REG_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "proto/admin.h"
#include "proto/crypto.h"
#include "proto/record.h"
#include "registry/registry.h"

#define NA_PREFIX "0.NA/"
#define NA_PREFIX_LEN 5
#define CHAL_BUCKETS 4096
#define CHAL_MAX 65536           /* pending challenges at most */
#define LIST_PER_MSG 50          /* CNRI: handles per list message */

/* A challenge waiting for its answer (OC 200): the original request. */
typedef struct chal {
	struct chal *next;       /* bucket chain */
	struct chal *older, *newer; /* age list, for expiry */
	uint32_t id;             /* session id the RC 402 carried */
	uint32_t created;        /* Unix seconds */
	uint8_t nonce[IDN_NONCE_LEN];
	uint8_t digest[IDN_DIGEST_MAX];
	size_t digest_len;
	uint8_t *req;            /* original request (envelope + message), owned */
	size_t req_len;
} chal_t;

/* Work of the registry itself for the writer (outbox.c): no job, no
 * answer; the caller waits for `done` (set after the durable commit). */
typedef struct reg_internal {
	void (*apply)(struct idn_registry *r, idn_txn_t *t, struct reg_internal *in,
		      uint32_t now);
	void *arg;
	uint64_t queued;         /* outbox entries added */
	int err;
	bool done;
	pthread_mutex_t mu;
	pthread_cond_t cond;
} reg_internal_t;

/* An operation on its way to (or through) the writer. */
typedef struct reg_op {
	struct reg_op *next;
	idn_job_t *job;          /* NULL for internal work */
	reg_internal_t *internal;
	uint8_t *orig;           /* the original request when `job` is its OC 200 answer, owned */
	idn_msg_t msg;           /* the request to carry out (job->msg, or decoded orig) */
	idn_identity_t who;
	/* result, set by the writer */
	uint32_t rcode;
	const char *errmsg;      /* static text or points into errbuf */
	char errbuf[160];
	char minted[IDN_MAX_HANDLE_LEN + 64]; /* the handle created (MINT), NUL-terminated */
	size_t minted_len;
} reg_op_t;

/* Counter deltas on their way to a commit (counters.c). */
typedef struct {
	struct reg_ctr *v;
	size_t n, cap;
} reg_ctrs_t;

/* Where a permission check reads handle records from (a write txn or a reader). */
typedef struct {
	idn_txn_t *txn;
	idn_reader_t *reader;
} reg_view_t;

struct idn_registry {
	idn_registry_opts_t o;
	idn_identity_t admins[IDN_REG_MAX_ADMINS];
	int n_admins;

	/* challenges */
	pthread_mutex_t chal_mu;
	chal_t *chal_bucket[CHAL_BUCKETS];
	chal_t *chal_oldest, *chal_newest;
	unsigned chal_count;

	/* writer queue */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	reg_op_t *head, *tail;
	size_t queued;
	bool stopping, started;
	pthread_t writer;
	/* idn_registry_set_quotas(): new defaults, taken into o by the writer
	 * (under mu) before its next batch, so ops.c reads them unlocked */
	bool quota_set;
	uint64_t quota_ids_new, quota_daily_new;

	/* counters.c: deltas waiting for a commit (under mu; ctr_hold after a
	 * failed commit until the next add), and those taken into the commit
	 * in progress (writer thread only) */
	reg_ctrs_t ctr_pending, ctr_taken;
	bool ctr_hold;

	/* writer-thread scratch (reg_apply runs on one thread at a time) */
	idn_value_t *vold, *vnew;    /* IDN_MAX_VALUES each */
	uint8_t *enc;
	size_t enc_cap;

	_Atomic uint64_t st_commits, st_ok, st_refused, st_chal, st_auth_ok, st_auth_fail;

	/* upstream (outbox.c, upstream.c): set up before the writer starts */
	bool up_enabled;             /* o.upstream set: changes are queued for the top */
	idn_identity_t up_id;        /* o.upstream_identity, parsed */
	bool outbox_added;           /* writer thread: this batch queued something */
	struct reg_upstream *up;     /* the sender, while started */
};

void reg_log(idn_registry_t *r, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Answer a job now with an error (or a prepared body-less success). */
void reg_answer_error(idn_job_t *job, const idn_msg_t *req, uint32_t rcode, const char *msg);
/* Hand a finished buffer to the job and complete it. */
void reg_finish(idn_job_t *job, uint8_t *buf, size_t len);
/* Build an answer with `build` into a growing buffer and finish the job. */
typedef int (*reg_build_fn)(idn_wire_t *w, void *arg);
void reg_answer_built(idn_job_t *job, reg_build_fn build, void *arg, size_t hint);

/* challenge.c */
void reg_challenge(idn_registry_t *r, idn_job_t *job, uint32_t opcode);
void reg_answer(idn_registry_t *r, idn_job_t *job);
void reg_challenges_free(idn_registry_t *r);

/* verify.c: check a credential against the key values of v->handle with
 * reader `rd` (begun): IDN_OK (*who set), IDN_EACCES wrong, IDN_ENOTFOUND
 * no such identity, IDN_EINVAL unknown type; *msg says which. */
int reg_verify_key(idn_reader_t *rd, const idn_verify_t *v, idn_identity_t *who,
		   const char **msg);

/* perm.c */
int reg_view_get(reg_view_t *v, const uint8_t *h, size_t len, idn_record_t *rec);
bool reg_is_server_admin(const idn_registry_t *r, const idn_identity_t *who);
/* Does `who` hold every bit of `need` in an HS_ADMIN value of `rec`
 * (directly or through HS_VLIST groups)? */
bool reg_allowed(idn_registry_t *r, reg_view_t *v, const idn_record_t *rec,
		 const idn_identity_t *who, uint16_t need);
/* The prefix handle of `h` ("88.100.12/x" -> "0.NA/88.100.12"; a prefix
 * handle 0.NA/a.b -> its parent 0.NA/a). Returns the length, 0 if none. */
size_t reg_prefix_handle(const uint8_t *h, size_t len, uint8_t *out, size_t cap);
/* The identity as "INDEX:HANDLE" text for the change log. */
size_t reg_identity_text(const idn_identity_t *who, char *out, size_t cap);

/* ops.c: run one write inside a child transaction; sets op->rcode. */
void reg_apply(idn_registry_t *r, idn_txn_t *t, reg_op_t *op, uint32_t now);
/* Checks done on the listener thread before a challenge: body decodes and
 * the handle is ours. Returns 0 or the RC to answer (with *msg). */
uint32_t reg_precheck(idn_registry_t *r, const idn_msg_t *m, idn_reader_t *rd, const char **msg);

/* list.c: list handles (105) and homed prefixes (302), on the listener thread. */
void reg_list(idn_registry_t *r, idn_job_t *job, const idn_msg_t *m, const idn_identity_t *who);

/* counters.c: the writer's side of idn_registry_add_counters. waiting and
 * take run under r->mu; apply adds the taken deltas to t (in a child when
 * `child`, dropping them if that fails) and says whether any were; done
 * forgets them after a commit (ok) or puts them back (not ok). */
bool reg_counters_waiting(const idn_registry_t *r);
void reg_counters_take(idn_registry_t *r);
bool reg_counters_apply(idn_registry_t *r, idn_txn_t *t, bool child);
void reg_counters_done(idn_registry_t *r, bool ok);
void reg_counters_free(idn_registry_t *r);
/* The create path's mark of an enterprise registering in a year: counter
 * "entyear:<YYYY>:<PREFIX>" (days of that year with registrations), called
 * when the prefix's first registration of `day` (YYYYMMDD) is made. */
void reg_mark_enterprise_year(idn_txn_t *t, const uint8_t *prefix, size_t len, const char *day);

/* outbox.c: after a successful local change in t, queue what the top
 * must learn (enterprise prefix handles only); a failure latches t's error. */
void reg_outbox_hook(idn_registry_t *r, idn_txn_t *t, reg_op_t *op, uint32_t now);
/* Internal work: run it in t (sets op->rcode); signal its waiter. */
void reg_internal_apply(idn_registry_t *r, idn_txn_t *t, reg_op_t *op, uint32_t now);
void reg_internal_done(reg_op_t *op);

/* upstream.c: the sender thread. start: when up_enabled (loads the key);
 * kick: entries were committed; stop: joins it (before the writer goes). */
int reg_upstream_start(idn_registry_t *r);
void reg_upstream_kick(idn_registry_t *r);
void reg_upstream_stop(idn_registry_t *r);

/* writer.c */
void reg_enqueue(idn_registry_t *r, reg_op_t *op);
void *reg_writer_main(void *arg);
/* Carry out an authenticated request: reads at once, writes via the writer.
 * Takes ownership of `orig` (may be NULL). */
void reg_execute(idn_registry_t *r, idn_job_t *job, uint8_t *orig, const idn_msg_t *m,
		 const idn_identity_t *who);

#endif
