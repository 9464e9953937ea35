/* loop_call.h - internal: run a function on every listener thread's event loop, between callbacks, and wait for it. */
#ifndef IDN_LOOP_CALL_H
#define IDN_LOOP_CALL_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

/*
 * A reload changes what the listener threads read (the server info, the
 * idle timeout) without locks on their path: the change is made by each
 * thread itself, inside its own loop, between two callbacks, so no request
 * ever sees half of it. loop_call_all() posts fn(targets[i], arg) to
 * bases[i] (arg is a copy of arg_len <= LOOP_CALL_ARG bytes, valid during
 * the call) and waits until every thread has run it. With `running` false
 * (threads not started) fn runs here, at once. IDN_OK when every call ran;
 * IDN_ETIMEDOUT after timeout_ms (the rest still run later: the caller
 * must then keep alive whatever the old state pointed to); IDN_ENOMEM.
 */
#define LOOP_CALL_ARG 64

typedef void (*loop_fn)(void *target, const void *arg);

int loop_call_all(struct event_base *const *bases, void *const *targets, int n, bool running,
		  loop_fn fn, const void *arg, size_t arg_len, int timeout_ms);

#endif
