/* node.h - what the daemon sets up around the listeners: server key, site record, first-start data. */
#ifndef IDN_NODE_H
#define IDN_NODE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/config.h"
#include "proto/pkey.h"
#include "storage/store.h"

/*
 * Rules of use: idn_node_prepare() runs once at start, before the
 * listeners; the node owns the key and the site bytes until
 * idn_node_deinit(). The site bytes are what get-site-info answers and what
 * the node's prefix handle publishes as HS_SITE.
 */
typedef struct {
	idn_pkey_t *key;
	uint8_t site[4096];
	size_t site_len;
	char site_addr[64];       /* the address published in the site record */
	uint8_t admin_pub[2048];  /* HS_PUBKEY of the node administrator (300:0.NA/<prefix>) */
	size_t admin_pub_len;
	char admin_key_path[PATH_MAX + 32]; /* where it came from */
	bool admin_key_generated; /* created on this start */
	char demo_key_path[PATH_MAX + 32];  /* the demo enterprise's private key, with --demo */
} idn_node_t;

/* Load or create the server key, build the site record for `port`, and
 * on a new store home the node prefix and create its prefix handle (plus
 * the demo identifiers when c->demo). Errors are described in err. */
int idn_node_prepare(idn_node_t *n, const idn_config_t *c, idn_store_t *s, uint16_t port,
		     char *err, size_t errlen);
void idn_node_deinit(idn_node_t *n);
/* Rebuild only n->site, site_len and site_addr from c (config reload:
 * site-description, site-serial, public-address); the key is not touched. */
int idn_node_site(idn_node_t *n, const idn_config_t *c, uint16_t port, char *err, size_t errlen);

#endif
