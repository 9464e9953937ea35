/* http_pages.h - shared pieces of the node's pages: layout, escaping, static assets, the node page. */
#ifndef IDN_HTTP_PAGES_H
#define IDN_HTTP_PAGES_H

#include <stddef.h>

#include "resolver/http_int.h"

/* A file served under /static/ (compiled in: no CDN, nothing to install). */
typedef struct {
	const char *name;         /* after "/static/" */
	const char *type;         /* Content-Type */
	const char *body;
	size_t len;
} http_asset_t;

/* http_assets.c: NULL when there is no such file. */
const http_asset_t *http_asset_find(const char *name);

/* http_pages.c */
void page_esc(struct evbuffer *b, const char *s, size_t n);
void page_escz(struct evbuffer *b, const char *s);
/* Text data, escaped; a link when it is a web address (http/https only:
 * never javascript: and the like). */
void page_text_or_link(struct evbuffer *b, const char *s, size_t n);
/* <!DOCTYPE ...> up to the opening <main>; `nav` names the current page
 * ("resolve", "node") for aria-current; `script` an asset to load or NULL. */
void page_begin(struct evbuffer *b, const char *title, const char *nav, const char *script);
/* </main>, the footer and </html>, then the reply with this status. */
void page_end(http_ctx_t *c, int status);

/* http_node.c: GET /node and GET /api/node. */
void http_node_page(http_ctx_t *c);
void http_api_node(http_ctx_t *c);

#endif
