/* writer.c - the single writer: group commit of concurrent writes, each in a child transaction, answered after fsync. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

/* Apply one op in its own child transaction of `parent`. */
static bool apply_child(idn_registry_t *r, idn_txn_t *parent, reg_op_t *op, uint32_t now)
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
		idn_txn_abort(child);
		return false;
	}
	err = idn_txn_commit(child);
	if (err) {
		op->rcode = err == IDN_EMAPFULL ? IDN_RC_SERVER_TOO_BUSY : IDN_RC_ERROR;
		op->errmsg = store_error_text(err);
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
		for (reg_op_t *op = batch; op; op = op->next) {
			op->rcode = IDN_RC_ERROR;
			op->errmsg = store_error_text(err);
		}
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
	for (reg_op_t *op = batch; op; op = op->next) {
		if (op->job)
			op->job->existed = false;
		if (children) {
			any |= apply_child(r, parent, op, now);
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
		reg_log(r, 3, "registry: commit failed: %s", idn_strerror(err));
		fail_all(batch, IDN_RC_ERROR, store_error_text(err));
		reg_counters_done(r, false);
		return true;
	}
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

void *reg_writer_main(void *arg)
{
	idn_registry_t *r = arg;
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
