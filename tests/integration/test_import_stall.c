/* test_import_stall.c - integration: `idnode import` keeps going when one of its connections stalls while the others race ahead (no deadlock). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/util/testutil.h"

/*
 * The import hands out jobs in input order and tracks the line below which
 * everything is finished in a bounded window. A connection whose answers
 * stall holds that mark while the other connections finish the window's
 * worth of jobs. Once its answers flow again, its worker must go on reading
 * them: an import that instead waited for room in the window, answers of
 * its own unread, never finished (seen in CI as a crash-test timeout).
 *
 * A proxy between the import and the node reproduces that exactly: it
 * holds back the answers of the first connection to get a create answer
 * from that answer on, until the other one has gone quiet (it is waiting for
 * room), then lets everything through.
 */

#define COUNT 12000
#define CONNS 2
#define WINDOW 8
#define MAX_PAIRS 8

static tu_daemon_t D;
static char input[256], keypath[256];

typedef struct {
	int cfd, sfd;              /* client side, node side */
	uint8_t hold[1 << 20];     /* answers held back (node -> client) */
	size_t held;
	uint8_t acc[64];           /* envelope + header of the current answer */
	size_t acc_len, left;      /* bytes of it seen, bytes of it still to come */
	unsigned long creates;     /* create answers seen */
	bool stalled;
} pair_t;

static struct {
	int lfd;
	unsigned port;
	pair_t *p[MAX_PAIRS];
	int n;
	int stalled;               /* index of the held connection, or -1 */
	unsigned long other_creates;
	volatile bool stop;
	bool released;
	double last_other;         /* last traffic on the other worker's connection */
	double held_since, released_at;
	unsigned long creates_at_release;
} P;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool send_all(int fd, const uint8_t *b, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w <= 0)
			return false;
		b += w;
		n -= (size_t)w;
	}
	return true;
}

/* Follow the answer stream message by message (20-byte envelope, length at
 * 16; the header's opcode at 20); returns true when this chunk holds (the
 * start of) a create answer. */
static bool scan(pair_t *q, const uint8_t *b, size_t n)
{
	bool create = false;
	for (size_t i = 0; i < n;) {
		if (q->acc_len < 20) {
			q->acc[q->acc_len++] = b[i++];
			if (q->acc_len == 20) {
				q->left = (uint32_t)q->acc[16] << 24 | (uint32_t)q->acc[17] << 16 |
					  (uint32_t)q->acc[18] << 8 | q->acc[19];
				if (q->left == 0)
					q->acc_len = 0;
			}
			continue;
		}
		if (q->acc_len < 24) {
			q->acc[q->acc_len++] = b[i++];
			q->left--;
			if (q->acc_len == 24 && q->acc[20] == 0 && q->acc[21] == 0 && q->acc[22] == 0 &&
			    q->acc[23] == 100) {
				q->creates++;
				create = true;
			}
		} else {
			size_t skip = q->left < n - i ? q->left : n - i;
			q->left -= skip;
			i += skip;
		}
		if (q->left == 0)
			q->acc_len = 0;
	}
	return create;
}

static void close_pair(pair_t *q)
{
	if (q->cfd >= 0)
		close(q->cfd);
	if (q->sfd >= 0)
		close(q->sfd);
	q->cfd = q->sfd = -1;
}

static void *proxy_main(void *arg)
{
	(void)arg;
	while (!P.stop) {
		struct pollfd fds[1 + 2 * MAX_PAIRS];
		int nf = 0;
		fds[nf++] = (struct pollfd){ .fd = P.lfd, .events = POLLIN };
		for (int i = 0; i < P.n; i++) {
			fds[nf++] = (struct pollfd){ .fd = P.p[i]->cfd, .events = POLLIN };
			fds[nf++] = (struct pollfd){ .fd = P.p[i]->sfd, .events = POLLIN };
		}
		poll(fds, (nfds_t)nf, 50);
		double now = now_s();
		if (fds[0].revents & POLLIN) {
			int c = accept(P.lfd, NULL, NULL);
			if (c >= 0 && P.n < MAX_PAIRS) {
				pair_t *q = calloc(1, sizeof(*q));
				struct sockaddr_in sa = { .sin_family = AF_INET,
							  .sin_port = htons((uint16_t)D.port) };
				inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
				q->cfd = c;
				q->sfd = socket(AF_INET, SOCK_STREAM, 0);
				if (connect(q->sfd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
					close_pair(q);
				P.p[P.n++] = q;
			} else if (c >= 0) {
				close(c);
			}
		}
		for (int i = 0; i < P.n; i++) {
			pair_t *q = P.p[i];
			struct pollfd *cf = &fds[1 + 2 * i], *sf = &fds[2 + 2 * i];
			uint8_t buf[65536];
			if (q->cfd < 0)
				continue;
			if (cf->revents & (POLLIN | POLLHUP | POLLERR)) {
				ssize_t r = recv(q->cfd, buf, sizeof(buf), 0);
				if (r <= 0 || !send_all(q->sfd, buf, (size_t)r)) {
					close_pair(q);
					continue;
				}
				if (i != P.stalled)
					P.last_other = now;
			}
			if (sf->revents & (POLLIN | POLLHUP | POLLERR)) {
				size_t room = sizeof(q->hold) - q->held;
				ssize_t r = recv(q->sfd, buf, room < sizeof(buf) ? room : sizeof(buf), 0);
				if (r <= 0) {
					close_pair(q);
					continue;
				}
				unsigned long before = q->creates;
				bool create = scan(q, buf, (size_t)r);
				if (P.stalled < 0 && create) {
					P.stalled = i;
					q->stalled = true;
					P.held_since = now;
				}
				if (i != P.stalled) {
					P.last_other = now;
					P.other_creates += q->creates - before;
				}
				if (q->stalled) {
					memcpy(q->hold + q->held, buf, (size_t)r);
					q->held += (size_t)r;
				} else if (!send_all(q->cfd, buf, (size_t)r)) {
					close_pair(q);
					continue;
				}
			}
		}
		/* Let the held answers go once the other connection has done
		 * hundreds of creates and then gone quiet (bounded). */
		if (P.stalled >= 0 && !P.released &&
		    ((P.other_creates > 1000 && now - P.last_other > 0.5) ||
		     now - P.held_since > 30)) {
			pair_t *q = P.p[P.stalled];
			P.released = true;
			P.released_at = now;
			P.creates_at_release = P.other_creates;
			q->stalled = false;
			if (q->cfd >= 0 && !send_all(q->cfd, q->hold, q->held))
				close_pair(q);
			q->held = 0;
		}
	}
	return NULL;
}

static int setup(void **state)
{
	const char *extra[] = { "--demo", NULL };
	if (tu_daemon_start(&D, extra) != 0)
		return -1;
	snprintf(input, sizeof(input), "%s/in.jsonl", D.dir);
	snprintf(keypath, sizeof(keypath), "%s/data/demo-enterprise-key.pem", D.dir);
	FILE *f = fopen(input, "w");
	if (!f)
		return -1;
	for (int i = 0; i < COUNT; i++)
		fprintf(f, "{\"handle\":\"88.100.12/STALL-%06d\",\"values\":[{\"index\":1,"
			   "\"type\":\"URL\",\"data\":\"https://example.com/s/%06d\"}]}\n",
			i, i);
	if (fclose(f))
		return -1;
	P.lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	socklen_t sl = sizeof(sa);
	if (bind(P.lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(P.lfd, 16) ||
	    getsockname(P.lfd, (struct sockaddr *)&sa, &sl))
		return -1;
	P.port = ntohs(sa.sin_port);
	P.stalled = -1;
	return 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < P.n; i++) {
		close_pair(P.p[i]);
		free(P.p[i]);
	}
	close(P.lfd);
	tu_daemon_cleanup(&D);
	return 0;
}

static void test_one_connection_stalls(void **s)
{
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, proxy_main, NULL), 0);
	char bin[256], cmd[2048], out[4096];
	tu_bin("idnode", bin, sizeof(bin));
	/* timeout: the stalled connection must wait for its answers, not
	 * reconnect; `timeout` bounds the whole run. */
	snprintf(cmd, sizeof(cmd),
		 "timeout -s KILL 120 %s import %s --server=127.0.0.1:%u "
		 "--auth=300:0.NA/88.100.12 --key=%s --conns=%d --window=%d --timeout=60000 "
		 "--no-progress --json 2>%s/import.log",
		 bin, input, P.port, keypath, CONNS, WINDOW, D.dir);
	int rc = tu_run(cmd, out, sizeof(out));
	P.stop = true;
	pthread_join(th, NULL);
	if (rc != 0) {
		char log[300], tail[4096];
		snprintf(log, sizeof(log), "tail -5 %s/import.log", D.dir);
		tu_run(log, tail, sizeof(tail));
		fail_msg("import exited %d (137: killed after 120 s, the deadlock); stderr:\n%s", rc,
			 tail);
	}
	assert_true(P.stalled >= 0);
	assert_true(P.released);
	for (int i = 0; i < P.n; i++)
		printf("connection %d: %lu create answers\n", i, P.p[i]->creates);
	printf("stalled connection held %.1f s while the other did %lu creates\n",
	       P.released_at - P.held_since, P.creates_at_release);
	if (!strstr(out, "\"created\": 12000"))
		fail_msg("not all created: %s", out);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_connection_stalls),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
