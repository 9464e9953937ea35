/* cmd_keygen.c - `idnode keygen`: a new RSA or SM2 key pair for an admin identity, and its HS_PUBKEY value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "proto/json.h"
#include "proto/pkey.h"
#include "proto/record.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: idnode keygen [--bits=2048 | --sm2] [--out=FILE] [--force] [--json]\n"
		"\n"
		"Generate an RSA (or with --sm2 an SM2) key pair for an admin identity (an\n"
		"enterprise prefix admin, or the node administrator). Writes the private key\n"
		"as PKCS#8 PEM to FILE (mode 0600, default ./idnode-key.pem), the public key\n"
		"as X.509 PEM next to it (FILE with .pem replaced by .pub.pem, or\n"
		"FILE.pub.pem), and prints the HS_PUBKEY value to store in the identity's\n"
		"handle (index 300 by custom) as hex, or with --json as the value in CNRI's\n"
		"REST API shape.\n"
		"\n"
		"Options:\n"
		"  --bits=N     RSA modulus size, 2048 to 8192 (default 2048)\n"
		"  --sm2        an SM2 key (curve sm2p256v1) instead; its HS_PUBKEY value is\n"
		"               an SM2_PUB_KEY blob with the PEM public key inside, as the\n"
		"               IDIS SDK writes it. Logins with it sign SM2 with SM3, the\n"
		"               identity handle as signer id.\n"
		"  --out=FILE   private key file (default ./idnode-key.pem)\n"
		"  --force      replace existing key files\n"
		"  --json       print {\"index\":300,\"type\":\"HS_PUBKEY\",\"data\":{...}}\n"
		"\n"
		"Exit status: 0 written, 1 failure, 2 usage error.\n");
}

/* FILE.pem -> FILE.pub.pem; anything else gets .pub.pem appended. */
static char *pub_name(const char *out)
{
	size_t n = strlen(out);
	char *p = malloc(n + 9);
	if (!p)
		return NULL;
	if (n > 4 && strcmp(out + n - 4, ".pem") == 0)
		n -= 4;
	memcpy(p, out, n);
	strcpy(p + n, ".pub.pem");
	return p;
}

int cmd_keygen(int argc, char **argv)
{
	const char *out = "idnode-key.pem", *v;
	unsigned bits = 2048;
	bool json = false, force = false, sm2 = false, bits_set = false;
	for (int i = 1; i < argc; i++) {
		if (cli_flag(argv, i, "help") || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if ((v = cli_opt(argc, argv, &i, "bits"))) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*v == 0 || *end || n < 2048 || n > 8192) {
				fprintf(stderr, "idnode keygen: bad --bits '%s' (2048 to 8192)\n", v);
				return 2;
			}
			bits = (unsigned)n;
			bits_set = true;
		} else if ((v = cli_opt(argc, argv, &i, "out"))) {
			out = v;
		} else if (cli_flag(argv, i, "json")) {
			json = true;
		} else if (cli_flag(argv, i, "force")) {
			force = true;
		} else if (cli_flag(argv, i, "sm2")) {
			sm2 = true;
		} else {
			fprintf(stderr, "idnode keygen: unknown argument '%s' (see --help)\n", argv[i]);
			return 2;
		}
	}
	if (sm2 && bits_set) {
		fprintf(stderr, "idnode keygen: --bits is for RSA keys (SM2 keys have 256 bits)\n");
		return 2;
	}
	char *pub = pub_name(out);
	if (!pub)
		return 1;
	struct stat st;
	/* A private key is never silently replaced: it may be the only copy. */
	if (!force && (stat(out, &st) == 0 || stat(pub, &st) == 0)) {
		fprintf(stderr, "idnode keygen: %s or %s exists (use --force to replace)\n", out,
			pub);
		free(pub);
		return 1;
	}
	idn_pkey_t *k;
	int ret = sm2 ? idn_pkey_generate_sm2(&k) : idn_pkey_generate_rsa(bits, &k);
	if (ret) {
		fprintf(stderr, "idnode keygen: key generation failed: %s\n", idn_strerror(ret));
		free(pub);
		return 1;
	}
	int rc = 1;
	uint8_t blob[2048];
	idn_wire_t w;
	idn_wire_init(&w, blob, sizeof(blob));
	if ((ret = idn_pkey_save_pem(k, out))) {
		fprintf(stderr, "idnode keygen: %s: %s\n", out, idn_strerror(ret));
	} else if ((ret = idn_pkey_save_public_pem(k, pub))) {
		fprintf(stderr, "idnode keygen: %s: %s\n", pub, idn_strerror(ret));
	} else if ((ret = idn_pkey_hs_pubkey(k, &w)) || (ret = w.err)) {
		fprintf(stderr, "idnode keygen: HS_PUBKEY encoding failed: %s\n", idn_strerror(ret));
	} else {
		rc = 0;
		size_t n = idn_wire_offset(&w);
		if (json) {
			idn_value_t val = {
				.index = 300,
				.ttl = 86400,
				.perms = IDN_PERM_DEFAULT,
				.type = { (const uint8_t *)"HS_PUBKEY", 9 },
				.data = { blob, (uint32_t)n },
			};
			cli_json_print(idn_value_to_json(&val));
		} else {
			for (size_t i = 0; i < n; i++)
				printf("%02X", blob[i]);
			printf("\n");
		}
		fprintf(stderr, "idnode keygen: wrote %s (private, 0600) and %s\n", out, pub);
	}
	idn_pkey_free(k);
	free(pub);
	return rc;
}
