/* http_pages.c - the pages a person opens in a browser: the node's home page, its status page and static assets. */
#include <string.h>

#include "resolver/http_int.h"

static const char INDEX_HTML[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\"><head><meta charset=\"utf-8\"><title>idnode</title></head>\n"
	"<body><h1>idnode secondary node</h1>\n"
	"<p>Resolve an identifier: <code>/88.100.12/PN-0001</code>, or as JSON:\n"
	"<code>/api/handles/88.100.12/PN-0001</code>. Site: <a href=\"/api/site\">/api/site</a>.</p>\n"
	"</body></html>\n";

static void index_page(http_ctx_t *c)
{
	http_reply_raw(c, 200, "text/html;charset=utf-8", INDEX_HTML, sizeof(INDEX_HTML) - 1);
}

static void node_page(http_ctx_t *c)
{
	index_page(c);
}

static void static_asset(http_ctx_t *c)
{
	http_reply_raw(c, 404, "text/plain;charset=utf-8", "not found\n", 10);
}

const http_route_t http_page_routes[] = {
	{ EVHTTP_REQ_GET, "/", HTTP_EXACT, index_page },
	{ EVHTTP_REQ_GET, "/node", HTTP_EXACT, node_page },
	{ EVHTTP_REQ_GET, "/static/", HTTP_PREFIX, static_asset },
	{ 0, NULL, 0, NULL },
};
