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
			   .reply_size = 120, .values = 2 };
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v;
		if ((v = val(a, "--server")))
			o.server = v;
		else if ((v = val(a, "--listen")))
			o.listen = v;
		else if ((v = val(a, "--prefix")))
			o.prefix = v;
		else if ((v = val(a, "--db")))
			o.db = v;
		else if ((v = val(a, "--count")))
			o.count = strtoull(v, NULL, 10);
		else if ((v = val(a, "--window")))
			o.window = (unsigned)atoi(v);
		else if ((v = val(a, "--conns")))
			o.conns = (unsigned)atoi(v);
		else if ((v = val(a, "--pipeline")))
			o.pipeline = (unsigned)atoi(v);
		else if ((v = val(a, "--duration")))
			o.duration = atof(v);
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
	if (o.count == 0 || o.duration <= 0 || o.duration > 3600 || o.warmup < 0 ||
	    o.window == 0 || o.conns == 0 || o.conns > 1024 || o.pipeline == 0 ||
	    o.pipeline > 1024) {
		fprintf(stderr, "idnode-bench: an option is out of range (see --help)\n");
		return 2;
	}
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	const char *cmd = argv[1];
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
