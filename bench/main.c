/* main.c - idnode-bench: load generators and raw loopback responders for idnode. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: idnode-bench COMMAND [OPTIONS]\n"
		"\n"
		"Commands:\n"
		"  raw-udp  --listen=ADDR [--reply-size=N] [--duration=S]\n"
		"           recvmmsg/sendmmsg responder answering every datagram with N fixed\n"
		"           bytes (RequestId copied): the UDP ceiling of this machine.\n"
		"  raw-tcp  --listen=ADDR [--reply-size=N] [--duration=S]\n"
		"           epoll responder answering every framed request with N fixed bytes.\n"
		"  udp      --server=ADDR --prefix=P --count=N [--window=256] [--duration=10] [--warmup=1]\n"
		"           closed-loop resolution load over UDP, random handles P0..P(N-1).\n"
		"  tcp      --server=ADDR --prefix=P --count=N [--conns=4] [--pipeline=64] ...\n"
		"           the same over persistent, pipelined TCP connections.\n"
		"  gen-store --db=DIR --prefix=P --count=N [--values=2] [--progress]\n"
		"           write N identifiers straight into a store (and home their prefix).\n"
		"  register --server=ADDR --auth=300:0.NA/88.100.12 --key=FILE [--conns=16]\n"
		"           [--window=32] [--count=N | --duration=S] [--warmup=1]\n"
		"           [--prefix=88.100.12/REG-] [--run-id=ID] [--challenge]\n"
		"           durable registrations/s: each connection logs in once, then keeps\n"
		"           WINDOW creates (URL + HS_ADMIN) in flight; handles P<run>-<i>.\n"
		"           --challenge: no login, every create answers its own RC 402\n"
		"           challenge (CNRI style), one request at a time per connection.\n"
		"  lmdb-ceiling --db=DIR [--batch=256] [--count=N | --duration=5] [--no-bare]\n"
		"           the same records straight into fresh stores under DIR, one durable\n"
		"           commit per batch: as the registry (two reads, put, change log,\n"
		"           counters) and as bare puts.\n"
		"  gen-jsonl --count=N [--prefix=88.100.12/IMP-] [--run-id=ID]\n"
		"           N identifiers as JSON lines on stdout, for `idnode import`.\n"
		"  count-prefix --db=DIR --prefix=PREFIX/TEXT\n"
		"           how many stored handles start with PREFIX/TEXT (soak checks).\n"
		"  http     --server=ADDR --prefix=P --count=N [--conns=64] [--pipeline=1] ...\n"
		"           closed-loop GET /api/handles/P<i> over keep-alive HTTP/1.1 connections.\n"
		"  raw-http --listen=ADDR [--reply-size=N] [--duration=S]\n"
		"           minimal libevent evhttp responder answering every request with a\n"
		"           fixed N-byte JSON body: the reference for the http mode.\n"
		"\n"
		"Common: --json prints one JSON object with the figures.\n"
		"Responders print 'ready port=N' on stdout once bound (port 0 = any free port).\n"
		"Only use loopback addresses. Exit status: 0 ok, 1 failure, 2 usage.\n");
}

static const char *val(const char *a, const char *name)
{
	size_t n = strlen(name);
	return strncmp(a, name, n) == 0 && a[n] == '=' ? a + n + 1 : NULL;
}

static void on_sig(int sig)
{
	bench_stop = 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	bench_opts_t o = { .server = "127.0.0.1:2641", .listen = "127.0.0.1:0",
			   .prefix = "88.100.12/BENCH-", .count = 100000, .window = 256,
			   .conns = 4, .pipeline = 64, .duration = 10, .warmup = 1,
			   .reply_size = 120, .values = 2, .batch = 256 };
	bool prefix_set = false, window_set = false, conns_set = false, pipeline_set = false;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v;
		if ((v = val(a, "--server")))
			o.server = v;
		else if ((v = val(a, "--auth")))
			o.auth = v;
		else if ((v = val(a, "--key")))
			o.key = v;
		else if ((v = val(a, "--run-id")))
			o.run_id = v;
		else if ((v = val(a, "--batch")))
			o.batch = (unsigned)atoi(v);
		else if (!strcmp(a, "--no-bare"))
			o.no_bare = true;
		else if (!strcmp(a, "--challenge"))
			o.challenge = true;
		else if ((v = val(a, "--listen")))
			o.listen = v;
		else if ((v = val(a, "--prefix")))
			o.prefix = v, prefix_set = true;
		else if ((v = val(a, "--db")))
			o.db = v;
		else if ((v = val(a, "--count")))
			o.count = strtoull(v, NULL, 10), o.count_set = true;
		else if ((v = val(a, "--window")))
			o.window = (unsigned)atoi(v), window_set = true;
		else if ((v = val(a, "--conns")))
			o.conns = (unsigned)atoi(v), conns_set = true;
		else if ((v = val(a, "--pipeline")))
			o.pipeline = (unsigned)atoi(v), pipeline_set = true;
		else if ((v = val(a, "--duration")))
			o.duration = atof(v), o.duration_set = true;
		else if ((v = val(a, "--warmup")))
			o.warmup = atof(v);
		else if ((v = val(a, "--reply-size")))
			o.reply_size = (unsigned)atoi(v);
		else if ((v = val(a, "--values")))
			o.values = (unsigned)atoi(v);
		else if (!strcmp(a, "--json"))
			o.json = true;
		else if (!strcmp(a, "--progress"))
			o.progress = true;
		else {
			fprintf(stderr, "idnode-bench: unknown option '%s' (see --help)\n", a);
			return 2;
		}
	}
	const char *cmd = argv[1];
	bool reg = !strcmp(cmd, "register"), ceil = !strcmp(cmd, "lmdb-ceiling");
	/* Defaults of the write-side commands differ from the resolution ones. */
	if (reg && !conns_set)
		o.conns = 16;
	if (reg && !window_set)
		o.window = 32;
	/* HTTP clients mostly wait for each answer: one in flight per connection. */
	if (!strcmp(cmd, "http") && !conns_set)
		o.conns = 64;
	if (!strcmp(cmd, "http") && !pipeline_set)
		o.pipeline = 1;
	if (!prefix_set && (reg || ceil))
		o.prefix = "88.100.12/REG-";
	if (!prefix_set && !strcmp(cmd, "gen-jsonl"))
		o.prefix = "88.100.12/IMP-";
	if (ceil && !o.duration_set)
		o.duration = 5;
	if ((reg || ceil) && o.count_set && o.duration_set) {
		fprintf(stderr, "idnode-bench %s: --count and --duration exclude each other\n", cmd);
		return 2;
	}
	if (strpbrk(o.prefix, "\"\\") || (o.run_id && strpbrk(o.run_id, "\"\\/"))) {
		fprintf(stderr, "idnode-bench: --prefix and --run-id may not hold quotes or backslashes\n");
		return 2;
	}
	if (o.count == 0 || o.batch == 0 || o.batch > 100000 || o.window > 65535 || o.duration <= 0 || o.duration > 3600 || o.warmup < 0 ||
	    o.window == 0 || o.conns == 0 || o.conns > 1024 || o.pipeline == 0 ||
	    o.pipeline > 1024) {
		fprintf(stderr, "idnode-bench: an option is out of range (see --help)\n");
		return 2;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	if (reg)
		return bench_register(&o);
	if (ceil)
		return bench_lmdb_ceiling(&o);
	if (!strcmp(cmd, "gen-jsonl"))
		return bench_gen_jsonl(&o);
	if (!strcmp(cmd, "count-prefix"))
		return bench_count_prefix(&o);
	if (!strcmp(cmd, "http"))
		return bench_gen_http(&o);
	if (!strcmp(cmd, "raw-http"))
		return bench_raw_http(&o);
	if (!strcmp(cmd, "raw-udp"))
		return bench_raw_udp(&o);
	if (!strcmp(cmd, "raw-tcp"))
		return bench_raw_tcp(&o);
	if (!strcmp(cmd, "udp"))
		return bench_gen_udp(&o);
	if (!strcmp(cmd, "tcp"))
		return bench_gen_tcp(&o);
	if (!strcmp(cmd, "gen-store")) {
		if (!o.db) {
			fprintf(stderr, "idnode-bench gen-store: --db is required\n");
			return 2;
		}
		return bench_gen_store(&o);
	}
	fprintf(stderr, "idnode-bench: unknown command '%s'\n", cmd);
	return 2;
}
