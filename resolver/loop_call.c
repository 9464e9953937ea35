/* loop_call.c - run a function on each listener thread's loop (config reload) and wait for all of them. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/errcode.h"
#include "resolver/loop_call.h"

/* Shared by the caller and every posted call; the last one out frees it,
 * so a caller that gave up waiting leaves nothing dangling. */
typedef struct {
	_Atomic int pending;
	_Atomic int refs;
	loop_fn fn;
	unsigned char arg[LOOP_CALL_ARG];
} call_block_t;

typedef struct {
	call_block_t *b;
	void *target;
} call_one_t;

static void block_put(call_block_t *b)
{
	if (atomic_fetch_sub(&b->refs, 1) == 1)
		free(b);
}

static void on_call(evutil_socket_t fd, short what, void *arg)
{
	call_one_t *c = arg;
	call_block_t *b = c->b;
	b->fn(c->target, b->arg);
	atomic_fetch_sub(&b->pending, 1);
	free(c);
	block_put(b);
}

int loop_call_all(struct event_base *const *bases, void *const *targets, int n, bool running,
		  loop_fn fn, const void *arg, size_t arg_len, int timeout_ms)
{
	if (arg_len > LOOP_CALL_ARG)
		return IDN_EINVAL;
	unsigned char copy[LOOP_CALL_ARG];
	memcpy(copy, arg, arg_len);
	if (!running) {
		for (int i = 0; i < n; i++)
			fn(targets[i], copy);
		return IDN_OK;
	}
	call_block_t *b = calloc(1, sizeof(*b));
	if (!b)
		return IDN_ENOMEM;
	b->fn = fn;
	memcpy(b->arg, copy, arg_len);
	atomic_store(&b->refs, 1);
	int ret = IDN_OK;
	struct timeval now = { 0, 0 };
	for (int i = 0; i < n; i++) {
		call_one_t *c = malloc(sizeof(*c));
		if (!c) {
			ret = IDN_ENOMEM;
			break;
		}
		c->b = b;
		c->target = targets[i];
		atomic_fetch_add(&b->pending, 1);
		atomic_fetch_add(&b->refs, 1);
		if (event_base_once(bases[i], -1, EV_TIMEOUT, on_call, c, &now) != 0) {
			atomic_fetch_sub(&b->pending, 1);
			atomic_fetch_sub(&b->refs, 1);
			free(c);
			ret = IDN_ENOMEM;
			break;
		}
	}
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (atomic_load(&b->pending) > 0) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= timeout_ms) {
			ret = IDN_ETIMEDOUT;
			break;
		}
		struct timespec pause = { 0, 1000000 };
		nanosleep(&pause, NULL);
	}
	block_put(b);
	return ret;
}
