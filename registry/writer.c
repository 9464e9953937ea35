/* writer.c - the single writer: group commit of concurrent writes, each in a child transaction, answered after fsync. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "registry/reg_int.h"

void reg_enqueue(idn_registry_t *r, reg_op_t *op)
{
	pthread_mutex_lock(&r->mu);
	op->next = NULL;
	if (r->tail)
		r->tail->next = op;
	else
		r->head = op;
	r->tail = op;
	r->queued++;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->mu);
}

void reg_execute(idn_registry_t *r, idn_job_t *job, uint8_t *orig, const idn_msg_t *m,
		 const idn_identity_t *who)
{
	uint32_t oc = m->hdr.opcode;
	if (oc == IDN_OC_LIST_HANDLES || oc == IDN_OC_LIST_HOMED_NAS) {
		reg_list(r, job, m, who);
		free(orig);
		return;
	}
	reg_op_t *op = calloc(1, sizeof(*op));
	if (!op) {
		reg_answer_error(job, m, IDN_RC_SERVER_TOO_BUSY, "Out of memory");
		free(orig);
		return;
	}
	op->job = job;
	op->orig = orig;
	op->msg = *m;
	op->who = *who;
	reg_enqueue(r, op);
}

static int build_success(idn_wire_t *w, void *arg)
{
	reg_op_t *op = arg;
	idn_resp_opts_t o = { .opcode = op->msg.hdr.opcode, .rcode = IDN_RC_SUCCESS };
	size_t start = idn_resp_begin(w, &op->msg, &op->job->ctx, &o);
	/* CNRI 9 answers a create with the handle created (the minted one). */
	if (op->msg.hdr.opcode == IDN_OC_CREATE_HANDLE)
		idn_wire_put_bstr(w, op->minted, op->minted_len);
	return idn_resp_end(w, start, &op->msg, &op->job->ctx);
}

static void answer_op(idn_registry_t *r, reg_op_t *op)
{
	if (op->internal) {
		reg_internal_done(op); /* its caller frees it */
		return;
	}
	if (op->rcode == IDN_RC_SUCCESS) {
		atomic_fetch_add(&r->st_ok, 1);
		reg_answer_built(op->job, build_success, op, 256 + op->minted_len);
	} else {
		atomic_fetch_add(&r->st_refused, 1);
		reg_answer_error(op->job, &op->msg, op->rcode, op->errmsg);
	}
	free(op->orig);
	free(op);
}

static void fail_all(reg_op_t *batch, uint32_t rcode, const char *msg)
{
	for (reg_op_t *op = batch; op; op = op->next) {
		if (op->rcode == IDN_RC_SUCCESS) {
			op->rcode = rcode;
			op->errmsg = msg;
		}
	}
}

static const char *store_error_text(int err)
{
	return err == IDN_EMAPFULL || err == IDN_ENOSPC ? "Storage full: nothing was stored"
							 : "Storage error: nothing was stored";
}

/*
 * A full or failing store refuses every write until an operator acts, and
 * a busy node sends thousands a second: the condition is logged at most
 * every STORE_LOG_EVERY seconds, with the number of refusals meanwhile,
 * and the end of it once a batch of writes commits without a storage
 * refusal (counter-only commits are small and may slip through a full
 * disk, so they do not count), no more often either. The state is the
 * writer thread's (one per registry); several registries in one process
 * (tests) only share the pacing.
 */
#define STORE_LOG_EVERY 10

static pthread_mutex_t trouble_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
	bool on;
	time_t last_log, last_ok_log;
	uint64_t refused;      /* since the last line */
} trouble;

/* LMDB says EIO for a page write the disk cut short. */
static int storage_cause(idn_registry_t *r, int err)
{
	return err == IDN_EIO && idn_store_disk_full(r->o.store) ? IDN_ENOSPC : err;
}

static void store_trouble(idn_registry_t *r, int err, uint64_t refused)
{
	time_t now = time(NULL);
	pthread_mutex_lock(&trouble_mu);
	trouble.refused += refused;
	bool was = trouble.on;
	trouble.on = true;
	if (trouble.last_log && now - trouble.last_log < STORE_LOG_EVERY) {
		pthread_mutex_unlock(&trouble_mu);
		return;
	}
	uint64_t n = trouble.refused;
	trouble.last_log = now;
	trouble.refused = 0;
	pthread_mutex_unlock(&trouble_mu);
	reg_log(r, 3, "registry: %s: writes refused (%llu %s); resolution goes on. %s",
		idn_strerror(err), (unsigned long long)n, was ? "since the last line" : "so far",
		err == IDN_EMAPFULL ? "Raise map-size and restart"
		: err == IDN_ENOSPC ? "Free disk space"
				    : "Check the disk and the log");
}

static void store_recovered(idn_registry_t *r)
{
	time_t now = time(NULL);
	pthread_mutex_lock(&trouble_mu);
	if (!trouble.on || (trouble.last_ok_log && now - trouble.last_ok_log < STORE_LOG_EVERY)) {
		pthread_mutex_unlock(&trouble_mu);
		return;
	}
	uint64_t n = trouble.refused;
	trouble.on = false;
	trouble.refused = 0;
	trouble.last_ok_log = now;
	pthread_mutex_unlock(&trouble_mu);
	reg_log(r, 5, "registry: writes are committed again (%llu more refused before)",
		(unsigned long long)n);
}

static bool is_store_error(int err)
{
	return err == IDN_EMAPFULL || err == IDN_ENOSPC || err == IDN_EIO || err == IDN_ESTORE ||
	       err == IDN_ECORRUPT || err == -EDQUOT || err == -EROFS;
}

/* Apply one op in its own child transaction of `parent`. */
static bool apply_child(idn_registry_t *r, idn_txn_t *parent, reg_op_t *op, uint32_t now,
			bool *trouble_seen)
{
	idn_txn_t *child;
	int err = idn_txn_begin_child(parent, &child);
	if (err) {
		op->rcode = IDN_RC_ERROR;
		op->errmsg = store_error_text(err);
		return false;
	}
	reg_apply(r, child, op, now);
	if (op->rcode != IDN_RC_SUCCESS) {
		err = idn_txn_error(child);
		if (is_store_error(err)) {
			store_trouble(r, storage_cause(r, err), 1);
			*trouble_seen = true;
		}
		idn_txn_abort(child);
		return false;
	}
	err = idn_txn_commit(child);
	if (err) {
		err = storage_cause(r, err);
		op->rcode = err == IDN_EMAPFULL ? IDN_RC_SERVER_TOO_BUSY : IDN_RC_ERROR;
		op->errmsg = store_error_text(err);
		store_trouble(r, err, 1);
		*trouble_seen = true;
		return false;
	}
	return true;
}

/*
 * One group commit; the parent's durable commit is what makes the writes
 * real. Every operation makes all its checks before its first write, so a
 * refused request has written nothing and the fast path applies them all
 * straight to the parent. Only a storage error after a write (the map is
 * full, say) can leave a partial change: the parent is then abandoned and
 * the batch run again with each request in its own child transaction, so
 * the others are still stored. Returns false when the fast path must be
 * retried that way.
 */
static bool run_batch(idn_registry_t *r, reg_op_t *batch, bool children)
{
	uint32_t now = (uint32_t)time(NULL);
	idn_txn_t *parent;
	int err = idn_txn_begin(r->o.store, &parent);
	if (err) {
		uint64_t n = 0;
		err = storage_cause(r, err);
		for (reg_op_t *op = batch; op; op = op->next, n++) {
			op->rcode = IDN_RC_ERROR;
			op->errmsg = store_error_text(err);
		}
		store_trouble(r, err, n);
		reg_counters_done(r, false);
		return true;
	}
	/* Volume counters handed in since the last commit ride along. */
	bool any = reg_counters_apply(r, parent, children);
	if (!children && idn_txn_error(parent)) {
		idn_txn_abort(parent);
		return false;
	}
	r->outbox_added = false;
	bool trouble_seen = false;
	for (reg_op_t *op = batch; op; op = op->next) {
		if (op->job)
			op->job->existed = false;
		if (children) {
			any |= apply_child(r, parent, op, now, &trouble_seen);
			continue;
		}
		reg_apply(r, parent, op, now);
		if (idn_txn_error(parent)) {
			idn_txn_abort(parent);
			return false;
		}
		any |= op->rcode == IDN_RC_SUCCESS;
	}
	if (!any) {
		idn_txn_abort(parent);
		return true;
	}
	err = idn_txn_commit(parent);
	if (err) {
		/* LMDB aborted the txn: nothing of it is on disk, the store is
		 * as it was after the last good commit. */
		uint64_t n = 0;
		for (reg_op_t *op = batch; op; op = op->next)
			n += op->rcode == IDN_RC_SUCCESS;
		err = storage_cause(r, err);
		fail_all(batch, IDN_RC_ERROR, store_error_text(err));
		store_trouble(r, err, n);
		reg_counters_done(r, false);
		return true;
	}
	if (batch && !trouble_seen)
		store_recovered(r);
	reg_counters_done(r, true);
	atomic_fetch_add(&r->st_commits, 1);
	if (r->outbox_added)
		reg_upstream_kick(r);
	return true;
}

static void commit_batch(idn_registry_t *r, reg_op_t *batch)
{
	if (!run_batch(r, batch, false))
		run_batch(r, batch, true);
}

/* Nice value of the writer thread relative to the listeners. Measured with
 * bench/run-register.sh on 2 cores (registrations vs LMDB's ceiling /
 * resolution while registering vs idle): nice 0: 0.82 / 0.43; 5: 0.68 / 0.55;
 * 8: 0.54 / 0.65; 10: 0.47 / 0.70; 19: 0.21 / 0.83. 8 keeps both near
 * their targets (0.50 / 0.70). */
#define WRITER_NICE 8

void *reg_writer_main(void *arg)
{
	idn_registry_t *r = arg;
	/* Resolution comes first on a busy machine: a bulk import may take the
	 * CPU the listeners leave, not theirs (commits mostly wait on fsync, so
	 * a few nice steps cost little throughput when the CPU is free). Linux
	 * schedules threads individually, so this affects only this thread; a
	 * refusal (RLIMIT_NICE) is harmless. */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WRITER_NICE);
	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (!r->head && !reg_counters_waiting(r) && !r->stopping)
			pthread_cond_wait(&r->cond, &r->mu);
		if (!r->head && !reg_counters_waiting(r)) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		/* Take what is waiting, up to max_batch: whatever arrived during
		 * the last fsync goes into this one (volume counters too; a batch
		 * may be only those). */
		reg_op_t *batch = r->head;
		if (batch) {
			reg_op_t *last = r->head;
			size_t n = 1;
			while (last->next && n < (size_t)r->o.max_batch) {
				last = last->next;
				n++;
			}
			r->head = last->next;
			if (!r->head)
				r->tail = NULL;
			last->next = NULL;
			r->queued -= n;
		}
		reg_counters_take(r);
		if (r->quota_set) {
			r->o.quota_identifiers = r->quota_ids_new;
			r->o.quota_daily = r->quota_daily_new;
			r->quota_set = false;
		}
		pthread_mutex_unlock(&r->mu);

		commit_batch(r, batch);
		reg_op_t *next;
		for (reg_op_t *op = batch; op; op = next) {
			next = op->next;
			answer_op(r, op);
		}
	}
	return NULL;
}
