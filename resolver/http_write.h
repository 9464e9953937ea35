/* http_write.h - helpers shared by the write handlers (http_write.c, http_batch.c). */
#ifndef IDN_HTTP_WRITE_H
#define IDN_HTTP_WRITE_H

#include "resolver/http_int.h"

/* Values requests are built in a buffer of their own: a body may hold far
 * more than the thread's scratch (up to a native message). */
#define HTTP_VALUES_MAX (IDN_MAX_MESSAGE_LEN - IDN_MAX_HANDLE_LEN - 1024)

/* The JSON values of `arr` in wire form at w; *n their count. On bad input
 * IDN_EINVAL / IDN_ELIMIT with the reason in err ("value 2: ..."). */
int http_values_from_json(const json_t *arr, uint32_t now, idn_wire_t *w, uint32_t *n,
			  char *err, size_t errlen);

/* The first message of a job's answer; false when there is none. Its error
 * text (empty for a success or a challenge) into msg. */
bool http_job_answer(const http_job_t *j, idn_msg_t *m, char *msg, size_t len);

/* CNRI's error body for a write: responseCode, the message (left out
 * where CNRI sends none: 100, 101, 402) and the handle, with its status. */
void http_reply_write_error(http_ctx_t *c, uint32_t rc, const char *msg, const char *handle);

/* POST /api/batch (http_batch.c). */
void http_batch(http_ctx_t *c);

#endif
