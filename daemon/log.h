/* log.h - the daemon's log: stderr lines that journald and syslog understand. */
#ifndef IDN_LOG_H
#define IDN_LOG_H

#include <stdarg.h>

/*
 * Levels are syslog's (3 err .. 7 debug). When stderr is not a terminal
 * (systemd, a pipe) each line starts with "<N>" so journald records the
 * priority; on a terminal lines carry a UTC timestamp and the level name.
 * Thread-safe: one write(2) per line.
 */
void idn_log_init(int max_level);
/* Change the level while running (config reload); any thread. */
void idn_log_set_level(int max_level);
void idn_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void idn_vlog(int level, const char *fmt, va_list ap);

#endif
