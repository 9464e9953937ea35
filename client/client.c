/* client.c - a blocking Handle protocol client over UDP or TCP. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"
#include "client/addr.h"

struct idn_client {
	struct sockaddr_storage addr;
	unsigned addrlen;
	int transport;
	int timeout_ms;
	int fd;
	uint32_t next_id;
	uint8_t *buf;             /* IDN_ENVELOPE_LEN + IDN_MAX_MESSAGE_LEN */
	uint8_t *seen;            /* UDP parts received */
};

#define BUF_LEN (IDN_ENVELOPE_LEN + IDN_MAX_MESSAGE_LEN)
#define MAX_PARTS ((IDN_MAX_MESSAGE_LEN + IDN_UDP_CHUNK - 1) / IDN_UDP_CHUNK)

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int idn_client_open(const char *server, int transport, int timeout_ms, idn_client_t **out)
{
	idn_client_t *c = calloc(1, sizeof(*c));
	if (!c)
		return IDN_ENOMEM;
	c->fd = -1;
	c->transport = transport;
	c->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	c->buf = malloc(BUF_LEN);
	c->seen = malloc(MAX_PARTS);
	if (!c->buf || !c->seen) {
		idn_client_close(c);
		return IDN_ENOMEM;
	}
	int ret = idn_parse_hostport(server, 2641, &c->addr, &c->addrlen);
	if (ret) {
		idn_client_close(c);
		return ret;
	}
	uint32_t seed = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16 ^ (uint32_t)(uintptr_t)c;
	c->next_id = (seed & 0x3fffffff) | 1;
	*out = c;
	return IDN_OK;
}

void idn_client_close(idn_client_t *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c->seen);
	free(c);
}

uint32_t idn_client_request_id(idn_client_t *c)
{
	c->next_id = (c->next_id * 1103515245u + 12345u) & 0x7fffffff;
	return c->next_id ? c->next_id : 1;
}

static int ensure_socket(idn_client_t *c)
{
	if (c->fd >= 0)
		return IDN_OK;
	int type = c->transport == IDN_CLIENT_TCP ? SOCK_STREAM : SOCK_DGRAM;
	c->fd = socket(c->addr.ss_family, type | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&c->addr, c->addrlen) != 0) {
		int e = errno;
		close(c->fd);
		c->fd = -1;
		return -e;
	}
	if (type == SOCK_STREAM) {
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return IDN_OK;
}

/* Wait until readable or the deadline passes. */
static int wait_readable(int fd, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return IDN_ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, (int)left);
		if (n > 0)
			return IDN_OK;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int read_full(idn_client_t *c, uint8_t *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		int ret = wait_readable(c->fd, deadline);
		if (ret)
			return ret;
		ssize_t got = recv(c->fd, p, n, 0);
		if (got == 0)
			return IDN_EPROTO; /* closed mid-message or before answering */
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += got;
		n -= (size_t)got;
	}
	return IDN_OK;
}

static int tcp_exchange(idn_client_t *c, const uint8_t *req, size_t len, uint32_t rid,
			size_t *resp_len)
{
	int64_t deadline = now_ms() + c->timeout_ms;
	for (int attempt = 0; attempt < 2; attempt++) {
		int ret = ensure_socket(c);
		if (ret)
			return ret;
		ssize_t sent = send(c->fd, req, len, MSG_NOSIGNAL);
		if (sent != (ssize_t)len) {
			/* A server that closed the idle connection: reconnect once. */
			close(c->fd);
			c->fd = -1;
			continue;
		}
		for (;;) {
			ret = read_full(c, c->buf, IDN_ENVELOPE_LEN, deadline);
			if (ret == IDN_EPROTO && attempt == 0) {
				close(c->fd);
				c->fd = -1;
				break; /* closed before answering: retry on a new connection */
			}
			if (ret)
				goto fail;
			uint32_t mlen = idn_get_be32(c->buf + 16);
			if (mlen > IDN_MAX_MESSAGE_LEN) {
				ret = IDN_EPROTO;
				goto fail;
			}
			ret = read_full(c, c->buf + IDN_ENVELOPE_LEN, mlen, deadline);
			if (ret)
				goto fail;
			if (idn_get_be32(c->buf + 8) != rid)
				continue; /* a stale answer to an earlier request */
			*resp_len = IDN_ENVELOPE_LEN + mlen;
			return IDN_OK;
		}
		continue;
fail:
		close(c->fd);
		c->fd = -1;
		return ret;
	}
	return IDN_ECONNREFUSED;
}

static int udp_exchange(idn_client_t *c, const uint8_t *req, size_t len, uint32_t rid,
			size_t *resp_len)
{
	static const int waits[] = { 500, 1000, 1500 };
	int ret = ensure_socket(c);
	if (ret)
		return ret;
	int64_t deadline = now_ms() + c->timeout_ms;
	uint32_t total = 0, nparts = 0, got = 0;
	uint8_t pkt[IDN_UDP_PACKET_MAX + 1];
	for (unsigned attempt = 0;; attempt++) {
		if (send(c->fd, req, len, 0) != (ssize_t)len)
			return -errno;
		int64_t until = now_ms() + waits[attempt < 3 ? attempt : 2];
		if (until > deadline)
			until = deadline;
		for (;;) {
			ret = wait_readable(c->fd, until);
			if (ret == IDN_ETIMEDOUT)
				break;
			if (ret)
				return ret;
			ssize_t n = recv(c->fd, pkt, sizeof(pkt), 0);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			idn_envelope_t env;
			if (n > IDN_UDP_PACKET_MAX ||
			    idn_envelope_decode(pkt, (size_t)n, &env) != IDN_OK ||
			    env.request_id != rid)
				continue;
			if (env.message_len + IDN_ENVELOPE_LEN == (uint32_t)n && env.message_id == 0) {
				memcpy(c->buf, pkt, (size_t)n);
				*resp_len = (size_t)n;
				return IDN_OK;
			}
			/* Multi-packet answer: chunk i sits at i * 492. */
			if (total != env.message_len) {
				total = env.message_len;
				nparts = (total + IDN_UDP_CHUNK - 1) / IDN_UDP_CHUNK;
				got = 0;
				memset(c->seen, 0, nparts);
				memcpy(c->buf, pkt, IDN_ENVELOPE_LEN);
				idn_put_be32(c->buf + 12, 0);
			}
			size_t off = (size_t)env.message_id * IDN_UDP_CHUNK;
			size_t chunk = (size_t)n - IDN_ENVELOPE_LEN;
			if (env.message_id >= nparts || off + chunk > total || c->seen[env.message_id])
				continue;
			memcpy(c->buf + IDN_ENVELOPE_LEN + off, pkt + IDN_ENVELOPE_LEN, chunk);
			c->seen[env.message_id] = 1;
			if (++got == nparts) {
				*resp_len = IDN_ENVELOPE_LEN + total;
				return IDN_OK;
			}
		}
		if (now_ms() >= deadline)
			return IDN_ETIMEDOUT;
	}
}

int idn_client_send(idn_client_t *c, const uint8_t *req, size_t len, const uint8_t **resp,
		    size_t *resp_len)
{
	if (len < IDN_ENVELOPE_LEN)
		return IDN_EINVAL;
	uint32_t rid = idn_get_be32(req + 8);
	int ret = c->transport == IDN_CLIENT_TCP ? tcp_exchange(c, req, len, rid, resp_len)
						: udp_exchange(c, req, len, rid, resp_len);
	if (ret)
		return ret;
	*resp = c->buf;
	return IDN_OK;
}

void idn_client_disconnect(idn_client_t *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int idn_client_write(idn_client_t *c, const uint8_t *req, size_t len)
{
	if (c->transport != IDN_CLIENT_TCP || len < IDN_ENVELOPE_LEN)
		return IDN_EINVAL;
	int ret = ensure_socket(c);
	if (ret)
		return ret;
	int64_t deadline = now_ms() + c->timeout_ms;
	while (len > 0) {
		ssize_t n = send(c->fd, req, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			req += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			ret = -errno;
			idn_client_disconnect(c);
			return ret;
		}
		/* The send buffer is full: wait for room, bounded. */
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return IDN_ETIMEDOUT;
		struct pollfd p = { .fd = c->fd, .events = POLLOUT };
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -errno;
	}
	return IDN_OK;
}

int idn_client_read(idn_client_t *c, int timeout_ms, const uint8_t **resp, size_t *resp_len)
{
	if (c->transport != IDN_CLIENT_TCP)
		return IDN_EINVAL;
	if (c->fd < 0)
		return IDN_EPROTO;
	if (timeout_ms == 0) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		if (poll(&p, 1, 0) <= 0)
			return IDN_EAGAIN;
	}
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : c->timeout_ms);
	int ret = read_full(c, c->buf, IDN_ENVELOPE_LEN, deadline);
	if (!ret) {
		uint32_t mlen = idn_get_be32(c->buf + 16);
		ret = mlen > IDN_MAX_MESSAGE_LEN ? IDN_EPROTO
						 : read_full(c, c->buf + IDN_ENVELOPE_LEN, mlen, deadline);
		if (!ret) {
			*resp = c->buf;
			*resp_len = IDN_ENVELOPE_LEN + mlen;
			return IDN_OK;
		}
	}
	/* A part of a message was read (or the peer is gone): the stream
	 * cannot be resynchronised. */
	idn_client_disconnect(c);
	return ret;
}

int idn_client_resolve(idn_client_t *c, const char *handle, const idn_resolve_opts_t *o,
		       idn_msg_t *msg)
{
	idn_resolve_opts_t def = { 0 };
	if (!o)
		o = &def;
	size_t hlen = strlen(handle);
	if (hlen == 0 || hlen > IDN_MAX_HANDLE_LEN || o->n_types > IDN_MAX_FILTER ||
	    o->n_indexes > IDN_MAX_FILTER)
		return IDN_EINVAL;

	idn_resolve_req_t r = { .handle = { (const uint8_t *)handle, (uint32_t)hlen } };
	r.n_index = o->n_indexes;
	memcpy(r.index, o->indexes, o->n_indexes * sizeof(uint32_t));
	r.n_type = o->n_types;
	for (uint32_t i = 0; i < o->n_types; i++) {
		r.type[i].p = (const uint8_t *)o->types[i];
		r.type[i].len = (uint32_t)strlen(o->types[i]);
	}
	idn_envelope_t env = {
		.major = o->major ? o->major : IDN_PROTO_MAJOR,
		.minor = o->major ? o->minor : IDN_PROTO_MINOR,
		.sugg_major = IDN_PROTO_MAJOR,
		.sugg_minor = IDN_PROTO_MINOR,
		.session_id = o->session_id,
		.request_id = idn_client_request_id(c),
	};
	idn_header_t hdr = {
		.opcode = IDN_OC_RESOLUTION,
		.opflag = o->opflag ? o->opflag : (IDN_OF_REC | IDN_OF_CA | IDN_OF_PO),
		.site_serial = 0xffff,
		.expiration = (uint32_t)time(NULL) + 43200,
	};
	size_t cap = IDN_ENVELOPE_LEN + IDN_HEADER_LEN + 20 + hlen + 4 * r.n_index;
	for (uint32_t i = 0; i < r.n_type; i++)
		cap += 4 + r.type[i].len;
	uint8_t *req = malloc(cap);
	if (!req)
		return IDN_ENOMEM;
	idn_wire_t w;
	idn_wire_init(&w, req, cap);
	size_t start = idn_msg_begin(&w, &env, &hdr);
	idn_resolve_req_encode(&w, &r);
	int ret = idn_msg_end(&w, start, true);
	const uint8_t *resp;
	size_t rlen;
	if (!ret)
		ret = idn_client_send(c, req, idn_wire_offset(&w), &resp, &rlen);
	free(req);
	if (ret)
		return ret;
	return idn_msg_decode(resp, rlen, msg) == IDN_OK ? IDN_OK : IDN_EPROTO;
}
