/* fuzz_http.c - libFuzzer target: the HTTP inputs decoded without evhttp: percent-decoding, query parameters, Authorization: Handle parameters, session ids. */
#include <stdlib.h>
#include <string.h>

#include "resolver/http_int.h"
/* The auth parsers arrive with http_auth.c (written alongside): fuzzed once
 * they are in the tree. */
#if __has_include("resolver/http_auth.h")
#include "resolver/http_auth.h"
#define HAVE_HTTP_AUTH 1
#endif

/* A decode either fails or gives a NUL-terminated string with no NUL
 * inside, no longer than its input, that fits `cap`. */
static void pct(const char *in, size_t len, size_t cap, bool plus)
{
	char *out = malloc(cap ? cap : 1);
	long n = http_pct_decode(in, len, out, cap, plus);
	if (n >= 0 && ((size_t)n > len || (size_t)n >= cap || out[n] != 0 ||
		       memchr(out, 0, (size_t)n) != NULL))
		abort();
	if (n < -2)
		abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *raw = (const char *)data;
	/* A path piece and a query piece, into exact and tiny buffers. */
	pct(raw, size, size + 1, false);
	pct(raw, size, size + 1, true);
	pct(raw, size, 4, false);
	pct(raw, size, 0, true);

	/* The rest needs a C string, as evhttp hands it over. */
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;

	http_ctx_t c;
	memset(&c, 0, sizeof(c));
	c.query = s;
	http_qiter_t it;
	char name[64], value[HTTP_HANDLE_MAX + 1];
	http_qiter_init(&c, &it);
	for (int i = 0; i < 4096 && http_qiter_next(&it, name, sizeof(name), value, sizeof(value));
	     i++)
		if (strlen(name) >= sizeof(name) || strlen(value) >= sizeof(value))
			abort();
	char small[8];
	http_param(&c, "type", small, sizeof(small));
	http_param(&c, "index", value, sizeof(value));
	http_param_bool(&c, "pretty", false);

#ifdef HAVE_HTTP_AUTH
	/* The parameters after "Authorization: Handle". */
	http_hauth_t h;
	if (http_hauth_parse(s, &h)) {
		const char *f[] = { h.session, h.id, h.type, h.cnonce, h.alg, h.signature, h.salt,
				    h.iterations, h.length };
		size_t cap[] = { sizeof(h.session), sizeof(h.id), sizeof(h.type), sizeof(h.cnonce),
				 sizeof(h.alg), sizeof(h.signature), sizeof(h.salt),
				 sizeof(h.iterations), sizeof(h.length) };
		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			if (strnlen(f[i], cap[i]) >= cap[i])
				abort();
		uint8_t id[HTTP_SESS_ID];
		if (h.session[0])
			http_sess_id_parse(h.session, id);
	}
	uint8_t id[HTTP_SESS_ID];
	http_sess_id_parse(s, id);
#endif
	free(s);
	return 0;
}
