/* outbox.c - the outbox to the top-level node (schema 2, optional database): numbered entries, the entry codec, peek, delete, stat. */
#include <string.h>

#include "storage/store_int.h"

/*
 * Layout: see the top of store.c. Unlike the change log, entries are
 * deleted once sent, so "last key + 1" would hand out a number again after
 * the outbox drained; the next number is kept in meta "outbox-seq" (u64),
 * written in the same txn as the entry.
 */
#define OB_FORMAT 0x01
#define OB_FIXED (1 + 8 + 4 + 4 + 4) /* format, seq, time, opcode, opflag */
#define OB_SEQ_META "outbox-seq"

size_t idn_outbox_size(const idn_outbox_entry_t *e)
{
	return OB_FIXED + 4 + (size_t)e->body.len;
}

void idn_outbox_encode(const idn_outbox_entry_t *e, uint8_t *out)
{
	idn_wire_t w;
	idn_wire_init(&w, out, idn_outbox_size(e));
	idn_wire_put_u8(&w, OB_FORMAT);
	idn_wire_put_u64(&w, e->seq);
	idn_wire_put_u32(&w, e->time);
	idn_wire_put_u32(&w, e->opcode);
	idn_wire_put_u32(&w, e->opflag);
	idn_wire_put_bstr(&w, e->body.p, e->body.len);
}

int idn_outbox_decode(const uint8_t *p, size_t len, idn_outbox_entry_t *e)
{
	idn_wire_t w;
	memset(e, 0, sizeof(*e));
	idn_wire_init_ro(&w, p, len);
	uint8_t fmt = idn_wire_get_u8(&w);
	if (w.err)
		return w.err;
	if (fmt != OB_FORMAT)
		return IDN_EVERSION;
	e->seq = idn_wire_get_u64(&w);
	e->time = idn_wire_get_u32(&w);
	e->opcode = idn_wire_get_u32(&w);
	e->opflag = idn_wire_get_u32(&w);
	e->body = idn_wire_get_bstr(&w, IDN_OUTBOX_MAX_BODY);
	if (w.err)
		return w.err;
	return idn_wire_avail(&w) ? IDN_EMALF : IDN_OK;
}

void idn_txn_outbox_add(idn_txn_t *t, uint32_t opcode, uint32_t opflag, const uint8_t *body,
			size_t len, uint32_t now)
{
	if (txn_check(t))
		return;
	if (!t->s->has_outbox) {
		txn_fail(t, IDN_EINVAL);
		return;
	}
	if (len > IDN_OUTBOX_MAX_BODY) {
		txn_fail(t, IDN_ELIMIT);
		return;
	}
	/* The next number: meta "outbox-seq", or past the last entry should
	 * the meta be missing (a store written before it existed). */
	uint64_t seq = 0;
	MDB_val mk = { sizeof(OB_SEQ_META) - 1, (void *)OB_SEQ_META }, mv;
	int rc = mdb_get(t->txn, t->s->meta, &mk, &mv);
	if (rc == MDB_SUCCESS && mv.mv_size == 8) {
		seq = idn_store_get_be64(mv.mv_data);
	} else if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
		txn_fail(t, map_mdb(rc));
		return;
	}
	MDB_cursor *cur;
	MDB_val k, v;
	rc = mdb_cursor_open(t->txn, t->s->outbox, &cur);
	if (rc) {
		txn_fail(t, map_mdb(rc));
		return;
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	mdb_cursor_close(cur);
	if (rc == MDB_SUCCESS && k.mv_size == 8 && idn_store_get_be64(k.mv_data) > seq)
		seq = idn_store_get_be64(k.mv_data);
	seq++;

	idn_outbox_entry_t e = { .seq = seq, .time = now, .opcode = opcode, .opflag = opflag,
				 .body = { body, (uint32_t)len } };
	uint8_t kb[8], sb[8];
	idn_store_put_be64(kb, seq);
	k = (MDB_val){ sizeof(kb), kb };
	v = (MDB_val){ idn_outbox_size(&e), NULL };
	rc = mdb_put(t->txn, t->s->outbox, &k, &v, MDB_RESERVE | MDB_APPEND);
	if (rc) {
		txn_fail(t, map_mdb(rc));
		return;
	}
	idn_outbox_encode(&e, v.mv_data);
	idn_store_put_be64(sb, seq);
	mv = (MDB_val){ sizeof(sb), sb };
	rc = mdb_put(t->txn, t->s->meta, &mk, &mv, 0);
	if (rc)
		txn_fail(t, map_mdb(rc));
}

void idn_txn_outbox_del(idn_txn_t *t, uint64_t seq)
{
	if (txn_check(t) || !t->s->has_outbox)
		return;
	uint8_t kb[8];
	idn_store_put_be64(kb, seq);
	MDB_val k = { sizeof(kb), kb };
	/* Already gone is fine: deleting is what "sent" means. */
	int rc = mdb_del(t->txn, t->s->outbox, &k, NULL);
	if (rc && rc != MDB_NOTFOUND)
		txn_fail(t, map_mdb(rc));
}

int idn_store_outbox_peek(idn_store_t *s, uint64_t after, idn_outbox_entry_t *e, uint8_t *buf,
			  size_t cap)
{
	memset(e, 0, sizeof(*e));
	if (!s->has_outbox)
		return IDN_ENOTFOUND;
	MDB_txn *txn;
	MDB_cursor *cur;
	int ret = idn_store_read_cursor(s, s->outbox, &txn, &cur);
	if (ret)
		return ret;
	int rc;
	uint8_t kb[8];
	idn_store_put_be64(kb, after == UINT64_MAX ? after : after + 1);
	MDB_val k = { sizeof(kb), kb }, v;
	rc = after == UINT64_MAX ? MDB_NOTFOUND : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_SUCCESS) {
		idn_outbox_entry_t d;
		if (k.mv_size != 8 || idn_outbox_decode(v.mv_data, v.mv_size, &d) != IDN_OK ||
		    d.seq != idn_store_get_be64(k.mv_data)) {
			ret = IDN_ECORRUPT;
		} else {
			*e = d;
			e->body = (idn_bytes_t){ buf, d.body.len };
			if (d.body.len > cap)
				ret = IDN_ESPACE;
			else if (d.body.len)
				memcpy(buf, d.body.p, d.body.len);
		}
	} else {
		ret = map_mdb(rc);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return ret;
}

int idn_store_outbox_stat(idn_store_t *s, uint64_t *count, uint32_t *oldest_time)
{
	*count = 0;
	*oldest_time = 0;
	if (!s->has_outbox)
		return IDN_OK;
	MDB_txn *txn;
	MDB_cursor *cur;
	int ret = idn_store_txn_begin(s, MDB_RDONLY, &txn);
	if (ret)
		return ret;
	MDB_stat st;
	int rc = mdb_stat(txn, s->outbox, &st);
	if (!rc)
		rc = mdb_cursor_open(txn, s->outbox, &cur);
	if (!rc) {
		MDB_val k, v;
		*count = st.ms_entries;
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		idn_outbox_entry_t e;
		if (rc == MDB_SUCCESS) {
			if (idn_outbox_decode(v.mv_data, v.mv_size, &e) == IDN_OK)
				*oldest_time = e.time;
			else
				ret = IDN_ECORRUPT;
		}
		if (rc == MDB_NOTFOUND)
			rc = MDB_SUCCESS;
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return ret ? ret : map_mdb(rc);
}
