/* faults.c - the operator's words for a store that cannot be opened at start. */
#include <errno.h>
#include <sys/stat.h>

#include "daemon/faults.h"
#include "daemon/log.h"
#include "proto/errcode.h"

/*
 * idn_store_open() returns codes (IDN_ECORRUPT, IDN_EVERSION, -errno); a
 * node that will not start is diagnosed from its log, so the line says
 * which file, what is wrong and what to do, not only strerror.
 */
void idn_daemon_store_open_failed(const char *dir, int err)
{
	struct stat st;
	switch (err) {
	case IDN_ECORRUPT:
		idn_log(3, "cannot open the store in %s: %s/data.mdb is damaged, truncated or not an "
			   "LMDB file; nothing was changed. Restore a backup (idnode restore) or move "
			   "the directory away",
			dir, dir);
		return;
	case IDN_EVERSION:
		idn_log(3, "cannot open the store in %s: it was written by a newer idnode (schema "
			   "version above this build's) or its lock.mdb by another LMDB version; run "
			   "the newer idnoded, or remove lock.mdb while no node runs",
			dir);
		return;
	case -ENOTDIR:
		idn_log(3, "cannot open the store in %s: %s is not a directory", dir,
			stat(dir, &st) == 0 && !S_ISDIR(st.st_mode) ? "it" : "a part of the path");
		return;
	case -EISDIR:
		idn_log(3, "cannot open the store in %s: %s/data.mdb (or lock.mdb) is a directory, "
			   "not a store file",
			dir, dir);
		return;
	case -EACCES:
	case -EPERM:
	case -EROFS:
		idn_log(3, "cannot open the store in %s: %s (the node needs to read and write "
			   "data.mdb and lock.mdb there)",
			dir, idn_strerror(err));
		return;
	case -ENOSPC:
		idn_log(3, "cannot open the store in %s: no space left on the device", dir);
		return;
	default:
		idn_log(3, "cannot open the store in %s: %s", dir, idn_strerror(err));
	}
}
