/* raw.c - raw loopback responders: the ceiling a Handle server is measured against. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench.h"
#include "proto/msg.h"

#define BATCH 32

static int bind_any(const char *listen_addr, int type, uint16_t *port)
{
	struct sockaddr_storage ss;
	unsigned sl;
	if (idn_parse_hostport(listen_addr, 0, &ss, &sl)) {
		fprintf(stderr, "idnode-bench: bad address '%s'\n", listen_addr);
		return -1;
	}
	int fd = socket(ss.ss_family, type, 0);
	int one = 1, sz = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (type == SOCK_DGRAM) {
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || (type == SOCK_STREAM && listen(fd, 256))) {
		perror("idnode-bench: bind");
		close(fd);
		return -1;
	}
	socklen_t l = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &l);
	*port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					      : ((struct sockaddr_in6 *)&ss)->sin6_port);
	/* Scripts wait for this line before they start the load. */
	printf("ready port=%u\n", *port);
	fflush(stdout);
	return fd;
}

/* A fixed answer of `size` bytes that parses as an RC 1 response. */
static void fixed_reply(uint8_t *r, size_t size)
{
	memset(r, 0, size);
	r[0] = 2;
	r[1] = 11;
	r[2] = 2;
	r[3] = 11;
	idn_put_be32(r + 16, (uint32_t)(size - IDN_ENVELOPE_LEN));
	idn_put_be32(r + 20, IDN_OC_RESOLUTION);
	idn_put_be32(r + 24, IDN_RC_SUCCESS);
	idn_put_be32(r + 40, (uint32_t)(size - IDN_ENVELOPE_LEN - IDN_HEADER_LEN - 4));
}

int bench_raw_udp(const bench_opts_t *o)
{
	uint16_t port;
	int fd = bind_any(o->listen, SOCK_DGRAM, &port);
	if (fd < 0)
		return 1;
	size_t size = o->reply_size < 64 ? 64 : o->reply_size > 512 ? 512 : o->reply_size;
	static uint8_t rx[BATCH][600], tx[BATCH][512];
	struct mmsghdr rm[BATCH], sm[BATCH];
	struct iovec ri[BATCH], si[BATCH];
	struct sockaddr_storage addr[BATCH];
	for (int i = 0; i < BATCH; i++) {
		fixed_reply(tx[i], size);
		ri[i] = (struct iovec){ rx[i], sizeof(rx[i]) };
		si[i] = (struct iovec){ tx[i], size };
	}
	struct timeval tv = { 0, 200000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	double end = o->duration > 0 ? bench_now() + o->duration : 0;
	unsigned long long n = 0;
	while (!bench_stop && (!end || bench_now() < end)) {
		for (int i = 0; i < BATCH; i++) {
			memset(&rm[i].msg_hdr, 0, sizeof(rm[i].msg_hdr));
			rm[i].msg_hdr.msg_iov = &ri[i];
			rm[i].msg_hdr.msg_iovlen = 1;
			rm[i].msg_hdr.msg_name = &addr[i];
			rm[i].msg_hdr.msg_namelen = sizeof(addr[i]);
		}
		int k = recvmmsg(fd, rm, BATCH, MSG_WAITFORONE, NULL);
		if (k <= 0)
			continue;
		for (int i = 0; i < k; i++) {
			memcpy(tx[i] + 4, rx[i] + 4, 8); /* session and request id */
			memset(&sm[i].msg_hdr, 0, sizeof(sm[i].msg_hdr));
			sm[i].msg_hdr.msg_iov = &si[i];
			sm[i].msg_hdr.msg_iovlen = 1;
			sm[i].msg_hdr.msg_name = &addr[i];
			sm[i].msg_hdr.msg_namelen = rm[i].msg_hdr.msg_namelen;
		}
		sendmmsg(fd, sm, (unsigned)k, 0);
		n += (unsigned)k;
	}
	fprintf(stderr, "raw-udp: answered %llu datagrams\n", n);
	close(fd);
	return 0;
}

typedef struct {
	int fd;
	uint8_t in[65536];
	size_t inlen;
} tconn_t;

int bench_raw_tcp(const bench_opts_t *o)
{
	uint16_t port;
	int lfd = bind_any(o->listen, SOCK_STREAM, &port);
	if (lfd < 0)
		return 1;
	size_t size = o->reply_size < 64 ? 64 : o->reply_size > 4096 ? 4096 : o->reply_size;
	uint8_t reply[4096];
	fixed_reply(reply, size);
	size_t outcap = size * 2048;
	uint8_t *out = malloc(outcap);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	double end = o->duration > 0 ? bench_now() + o->duration : 0;
	unsigned long long n = 0;
	while (!bench_stop && (!end || bench_now() < end)) {
		struct epoll_event evs[64];
		int k = epoll_wait(ep, evs, 64, 200);
		for (int i = 0; i < k; i++) {
			tconn_t *c = evs[i].data.ptr;
			if (!c) {
				int fd = accept(lfd, NULL, NULL);
				if (fd < 0)
					continue;
				int one = 1;
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				c = calloc(1, sizeof(*c));
				c->fd = fd;
				struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
				continue;
			}
			ssize_t got = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
			if (got <= 0) {
				close(c->fd);
				free(c);
				continue;
			}
			c->inlen += (size_t)got;
			size_t pos = 0, olen = 0;
			while (c->inlen - pos >= IDN_ENVELOPE_LEN) {
				size_t m = IDN_ENVELOPE_LEN + idn_get_be32(c->in + pos + 16);
				if (m > sizeof(c->in) || c->inlen - pos < m)
					break;
				if (olen + size > outcap)
					break;
				memcpy(out + olen, reply, size);
				memcpy(out + olen + 4, c->in + pos + 4, 8);
				olen += size;
				pos += m;
				n++;
			}
			memmove(c->in, c->in + pos, c->inlen - pos);
			c->inlen -= pos;
			for (size_t w = 0; w < olen;) {
				ssize_t s = write(c->fd, out + w, olen - w);
				if (s <= 0)
					break;
				w += (size_t)s;
			}
		}
	}
	fprintf(stderr, "raw-tcp: answered %llu requests\n", n);
	free(out);
	close(ep);
	close(lfd);
	return 0;
}
