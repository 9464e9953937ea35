/* faults.h - how idnoded reports a store it cannot open (one clear line, then exit 1). */
#ifndef IDN_FAULTS_H
#define IDN_FAULTS_H

/* Log one line naming the data directory and what is wrong with it, with
 * the operator's way out (restore a backup, raise map-size, ...). */
void idn_daemon_store_open_failed(const char *dir, int err);

#endif
