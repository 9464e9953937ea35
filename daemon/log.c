/* log.c - the daemon's log: one line per write(2) on stderr, journald-style priorities. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"

/* Atomic: a reload (SIGHUP) changes it while every thread logs. */
static _Atomic int max_level = 6;
static int to_tty = -1;

void idn_log_init(int level)
{
	max_level = level;
	to_tty = isatty(STDERR_FILENO);
}

void idn_log_set_level(int level)
{
	atomic_store_explicit(&max_level, level, memory_order_relaxed);
}

void idn_vlog(int level, const char *fmt, va_list ap)
{
	static const char *names[] = { "emerg", "alert", "crit", "error", "warning", "notice",
				       "info", "debug" };
	if (level > atomic_load_explicit(&max_level, memory_order_relaxed))
		return;
	if (to_tty < 0)
		to_tty = isatty(STDERR_FILENO);
	char line[1024];
	int n;
	if (to_tty) {
		time_t t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%SZ ", &tm);
		n += snprintf(line + n, sizeof(line) - (size_t)n, "idnoded: %s: ",
			      names[level & 7]);
	} else {
		n = snprintf(line, sizeof(line), "<%d>", level & 7);
	}
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}

void idn_log(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	idn_vlog(level, fmt, ap);
	va_end(ap);
}
