/* cmd_backup.c - `idnode backup` (a compacted, consistent copy of a live store and its keys) and `idnode restore`. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "daemon/config.h"
#include "storage/store.h"

/* The files of a data directory besides the store: keys and certificates,
 * copied with their modes (private keys stay 0600). */
static const char *const key_files[] = {
	"server-key.pem", "admin-key.pem", "admin-key.pem.pub", "https-cert.pem", "https-key.pem",
	"demo-enterprise-key.pem", "demo-enterprise-key.pem.pub",
};
#define N_KEY_FILES (sizeof(key_files) / sizeof(key_files[0]))

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 0 when `dir` is absent or empty, 1 when it holds something, -errno. */
static int dir_state(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n > 0;
}

/* Copy src to dst (replacing it through a temporary name) with src's mode. */
static int copy_file(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	struct stat st;
	if (fstat(in, &st) != 0) {
		int e = errno;
		close(in);
		return -e;
	}
	char tmp[PATH_MAX + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", dst);
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
	if (out < 0) {
		int e = errno;
		close(in);
		return -e;
	}
	int ret = 0;
	static char buf[1 << 16];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				ret = -errno;
				break;
			}
			off += w;
		}
		if (ret)
			break;
	}
	if (!ret && (fchmod(out, st.st_mode & 07777) != 0 || fsync(out) != 0))
		ret = -errno;
	close(in);
	if (close(out) != 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, dst) != 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* Copy the key files present in `from` to `to`; returns how many, or -errno. */
static int copy_keys(const char *from, const char *to, const char *cmd)
{
	int n = 0;
	for (size_t i = 0; i < N_KEY_FILES; i++) {
		char s[PATH_MAX], d[PATH_MAX];
		snprintf(s, sizeof(s), "%s/%s", from, key_files[i]);
		snprintf(d, sizeof(d), "%s/%s", to, key_files[i]);
		if (access(s, F_OK) != 0)
			continue;
		int ret = copy_file(s, d);
		if (ret) {
			fprintf(stderr, "idnode %s: %s: %s\n", cmd, s, strerror(-ret));
			return ret;
		}
		n++;
	}
	return n;
}

/* Open `dir` read-only and count it: the check that a copy is a store. */
static int verify(const char *dir, idn_store_stat_t *st)
{
	idn_store_t *s;
	idn_store_opts_t so = { .read_only = true };
	int ret = idn_store_open(dir, &so, &s);
	if (ret)
		return ret;
	ret = idn_store_stat(s, st);
	idn_store_close(s);
	return ret;
}

/* --db, else the data-dir of --config (or the built-in default). */
static int data_dir(const char *db, const char *conf, char *out, size_t len, const char *cmd)
{
	if (db) {
		snprintf(out, len, "%s", db);
		return 0;
	}
	idn_config_t *c = malloc(sizeof(*c));
	if (!c)
		return 1;
	idn_config_defaults(c);
	char err[512];
	if (conf && idn_config_load_file(c, conf, err, sizeof(err)) != 0) {
		fprintf(stderr, "idnode %s: %s\n", cmd, err);
		free(c);
		return 2;
	}
	snprintf(out, len, "%s", c->data_dir);
	free(c);
	return 0;
}

static void backup_usage(FILE *out)
{
	fprintf(out,
		"Usage: idnode backup [--db=DIR | --config=FILE] DEST\n"
		"\n"
		"Copy the node's store into DEST (a new or empty directory) while the node\n"
		"serves: one consistent snapshot (LMDB's copy with compaction: free pages are\n"
		"left out), written as DEST/data.mdb, plus the keys and certificates of the\n"
		"data directory (server-key.pem, admin-key.pem(.pub), https-*.pem,\n"
		"demo-enterprise-key.pem(.pub)) with their modes. The copy is opened and\n"
		"counted before the summary is printed. Writes made after the snapshot began\n"
		"are not in it. Bring it back with `idnode restore`.\n"
		"\n"
		"Options:\n"
		"  --db=DIR        the node's data directory\n"
		"  --config=FILE   take the data directory from this config file\n"
		"                  (default: the built-in data-dir, /var/lib/idnode)\n"
		"\n"
		"Exit status: 0 copied and verified, 1 failure, 2 usage error.\n");
}

int cmd_backup(int argc, char **argv)
{
	const char *db = NULL, *conf = NULL, *dest = NULL, *v;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			backup_usage(stdout);
			return 0;
		}
		if ((v = cli_opt(argc, argv, &i, "db")))
			db = v;
		else if ((v = cli_opt(argc, argv, &i, "config")))
			conf = v;
		else if (argv[i][0] == '-' || dest) {
			backup_usage(stderr);
			return 2;
		} else
			dest = argv[i];
	}
	if (!dest) {
		backup_usage(stderr);
		return 2;
	}
	char dir[PATH_MAX];
	int rc = data_dir(db, conf, dir, sizeof(dir), "backup");
	if (rc)
		return rc;
	int ds = dir_state(dest);
	if (ds != 0) {
		fprintf(stderr, "idnode backup: %s: %s\n", dest,
			ds > 0 ? "not empty; give a new or empty directory" : strerror(-ds));
		return 1;
	}
	double t0 = now_s();
	/* Read-only: a backup never creates, upgrades or writes the source. */
	idn_store_t *s;
	idn_store_opts_t so = { .read_only = true };
	int ret = idn_store_open(dir, &so, &s);
	if (ret) {
		fprintf(stderr, "idnode backup: cannot open the store in %s: %s\n", dir,
			idn_strerror(ret));
		return 1;
	}
	ret = idn_store_backup(s, dest);
	idn_store_close(s);
	if (ret) {
		fprintf(stderr, "idnode backup: copying %s to %s: %s\n", dir, dest, idn_strerror(ret));
		return 1;
	}
	int keys = copy_keys(dir, dest, "backup");
	if (keys < 0)
		return 1;
	idn_store_stat_t st;
	ret = verify(dest, &st);
	char lock[PATH_MAX + 16], data[PATH_MAX + 16];
	snprintf(lock, sizeof(lock), "%s/lock.mdb", dest);
	unlink(lock); /* the check's; a restore starts without one */
	if (ret) {
		fprintf(stderr, "idnode backup: the copy in %s does not open: %s\n", dest,
			idn_strerror(ret));
		return 1;
	}
	snprintf(data, sizeof(data), "%s/data.mdb", dest);
	struct stat fst;
	long long bytes = stat(data, &fst) == 0 ? (long long)fst.st_size : -1;
	printf("backup of %s in %s: %llu handles, %llu homed prefixes, %lld bytes, %d key "
	       "file%s, %.2f s\n",
	       dir, dest, (unsigned long long)st.handles, (unsigned long long)st.homed, bytes, keys,
	       keys == 1 ? "" : "s", now_s() - t0);
	return 0;
}

static void restore_usage(FILE *out)
{
	fprintf(out,
		"Usage: idnode restore SRC --db=DIR [--force]\n"
		"       idnode restore SRC --config=FILE [--force]\n"
		"\n"
		"Bring back a backup made by `idnode backup`: SRC/data.mdb (checked first: it\n"
		"must open as a store) and the key files in SRC are copied into the data\n"
		"directory DIR. Refused while a node (any process) has the store in DIR open,\n"
		"as LMDB's lock on DIR/lock.mdb shows: stop idnoded first. Refused when DIR\n"
		"holds anything unless --force, which replaces the store and the key files\n"
		"(other files are left).\n"
		"\n"
		"Exit status: 0 restored and verified, 1 failure or refusal, 2 usage error.\n");
}

int cmd_restore(int argc, char **argv)
{
	const char *db = NULL, *conf = NULL, *src = NULL, *v;
	bool force = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			restore_usage(stdout);
			return 0;
		}
		if ((v = cli_opt(argc, argv, &i, "db")))
			db = v;
		else if ((v = cli_opt(argc, argv, &i, "config")))
			conf = v;
		else if (cli_flag(argv, i, "force"))
			force = true;
		else if (argv[i][0] == '-' || src) {
			restore_usage(stderr);
			return 2;
		} else
			src = argv[i];
	}
	if (!src || (!db && !conf)) {
		restore_usage(stderr);
		return 2;
	}
	char dir[PATH_MAX];
	int rc = data_dir(db, conf, dir, sizeof(dir), "restore");
	if (rc)
		return rc;
	idn_store_stat_t st;
	int ret = verify(src, &st);
	char s[PATH_MAX + 16], d[PATH_MAX + 16];
	snprintf(s, sizeof(s), "%s/lock.mdb", src);
	unlink(s);
	if (ret) {
		fprintf(stderr, "idnode restore: %s is not a usable backup: %s\n", src,
			idn_strerror(ret));
		return 1;
	}
	long pid = 0;
	ret = idn_store_in_use(dir, &pid);
	if (ret != 0) {
		if (ret > 0)
			fprintf(stderr, "idnode restore: the store in %s is in use (process %ld); stop "
					"the node first\n",
				dir, pid);
		else
			fprintf(stderr, "idnode restore: %s: %s\n", dir, idn_strerror(ret));
		return 1;
	}
	int ds = dir_state(dir);
	if (ds < 0) {
		fprintf(stderr, "idnode restore: %s: %s\n", dir, strerror(-ds));
		return 1;
	}
	if (ds > 0 && !force) {
		fprintf(stderr, "idnode restore: %s is not empty; add --force to replace its store "
				"and keys\n",
			dir);
		return 1;
	}
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		fprintf(stderr, "idnode restore: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	/* The old lock file describes readers of the old map: start afresh. */
	snprintf(d, sizeof(d), "%s/lock.mdb", dir);
	unlink(d);
	snprintf(s, sizeof(s), "%s/data.mdb", src);
	snprintf(d, sizeof(d), "%s/data.mdb", dir);
	ret = copy_file(s, d);
	if (ret) {
		fprintf(stderr, "idnode restore: copying %s to %s: %s\n", s, d, strerror(-ret));
		return 1;
	}
	chmod(d, 0640); /* as idnoded creates it */
	int keys = copy_keys(src, dir, "restore");
	if (keys < 0)
		return 1;
	ret = verify(dir, &st);
	if (ret) {
		fprintf(stderr, "idnode restore: the restored store in %s does not open: %s\n", dir,
			idn_strerror(ret));
		return 1;
	}
	printf("restored %s into %s: %llu handles, %llu homed prefixes, %d key file%s\n", src, dir,
	       (unsigned long long)st.handles, (unsigned long long)st.homed, keys,
	       keys == 1 ? "" : "s");
	return 0;
}
