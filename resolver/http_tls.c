/* http_tls.c - HTTPS for the evhttp listeners: an OpenSSL context (TLS 1.2+) and bufferevent_openssl per connection; the only OpenSSL user in resolver/. */
#include <stdio.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "resolver/http_int.h"

static void ssl_reason(const char *what, const char *path, char *err, size_t errlen)
{
	unsigned long e = ERR_get_error();
	char buf[200] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(err, errlen, "%s %s: %s", what, path, buf[0] ? buf : "failed");
}

int http_tls_ctx_new(const char *cert_path, const char *key_path, void **out, char *err,
		     size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(err, errlen, "cannot create a TLS context");
		return IDN_ECRYPTO;
	}
	/* TLS 1.0 and 1.1 are deprecated (RFC 8996): never negotiated. */
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
				 SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Forward-secret AEAD suites only for TLS 1.2 (1.3 has nothing else). */
	SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!MD5:!RC4");
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_path) != 1) {
		ssl_reason("cannot load the certificate", cert_path, err, errlen);
		SSL_CTX_free(ctx);
		return IDN_ECRYPTO;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_path, SSL_FILETYPE_PEM) != 1) {
		ssl_reason("cannot load the private key", key_path, err, errlen);
		SSL_CTX_free(ctx);
		return IDN_ECRYPTO;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ssl_reason("the key does not match the certificate", cert_path, err, errlen);
		SSL_CTX_free(ctx);
		return IDN_ECRYPTO;
	}
	*out = ctx;
	return IDN_OK;
}

void http_tls_ctx_free(void *ctx)
{
	SSL_CTX_free(ctx);
}

/* evhttp asks for a bufferevent for each accepted connection; the socket
 * is set on it afterwards (fd -1 here). */
static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	const struct idn_http *srv = arg;
	SSL *ssl = SSL_new(srv->tls_ctx);
	if (!ssl)
		return NULL;
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	/* Clients that close without close_notify are the norm for HTTP. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	/* The head deadline sees decrypted bytes: a slow TLS client is timed
	 * on what evhttp parses, not on records. */
	return http_guard_add(bev, srv->opts.timeout);
}

void http_tls_attach(struct evhttp *e, struct idn_http *srv)
{
	evhttp_set_bevcb(e, make_bev, srv);
}

bool http_is_tls(struct evhttp_request *req)
{
	struct evhttp_connection *ec = evhttp_request_get_connection(req);
	if (!ec)
		return false;
	struct bufferevent *bev = evhttp_connection_get_bufferevent(ec);
	return bev && bufferevent_openssl_get_ssl(bev) != NULL;
}
