/* pkey.c - key pairs on OpenSSL 3: generation, PEM files, HS_PUBKEY encoding. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "proto/pkey.h"
#include "proto/record.h"

struct idn_pkey {
	EVP_PKEY *pk;
};

int idn_pkey_generate_rsa(unsigned bits, idn_pkey_t **out)
{
	idn_pkey_t *k = calloc(1, sizeof(*k));
	if (!k)
		return IDN_ENOMEM;
	k->pk = EVP_RSA_gen(bits);
	if (!k->pk) {
		free(k);
		return IDN_ECRYPTO;
	}
	*out = k;
	return IDN_OK;
}

int idn_pkey_load_pem(const char *path, idn_pkey_t **out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!pk)
		return IDN_ECRYPTO;
	idn_pkey_t *k = calloc(1, sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pk);
		return IDN_ENOMEM;
	}
	k->pk = pk;
	*out = k;
	return IDN_OK;
}

static int write_pem(const idn_pkey_t *k, const char *path, bool private_part)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return IDN_ELIMIT;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, private_part ? 0600 : 0644);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -errno;
	}
	int ok = private_part ? PEM_write_PrivateKey(f, k->pk, NULL, NULL, 0, NULL, NULL)
			      : PEM_write_PUBKEY(f, k->pk);
	/* The key must be on disk before it is published under its name. */
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	fclose(f);
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return ok ? -errno : IDN_ECRYPTO;
	}
	return IDN_OK;
}

int idn_pkey_save_pem(const idn_pkey_t *k, const char *path)
{
	return write_pem(k, path, true);
}

int idn_pkey_save_public_pem(const idn_pkey_t *k, const char *path)
{
	return write_pem(k, path, false);
}

static int bn_param(const EVP_PKEY *pk, const char *name, uint8_t *buf, size_t cap, size_t *len)
{
	BIGNUM *bn = NULL;
	if (!EVP_PKEY_get_bn_param(pk, name, &bn))
		return IDN_ECRYPTO;
	int n = BN_num_bytes(bn);
	if (n < 0 || (size_t)n > cap) {
		BN_free(bn);
		return IDN_ELIMIT;
	}
	BN_bn2bin(bn, buf);
	*len = (size_t)n;
	BN_free(bn);
	return IDN_OK;
}

int idn_pkey_hs_pubkey(const idn_pkey_t *k, idn_wire_t *out)
{
	if (EVP_PKEY_get_base_id(k->pk) != EVP_PKEY_RSA)
		return IDN_EINVAL;
	uint8_t n[1024], e[16];
	size_t nl, el;
	int ret = bn_param(k->pk, OSSL_PKEY_PARAM_RSA_N, n, sizeof(n), &nl);
	if (!ret)
		ret = bn_param(k->pk, OSSL_PKEY_PARAM_RSA_E, e, sizeof(e), &el);
	if (ret)
		return ret;
	idn_bytes_t eb = { e, (uint32_t)el }, nb = { n, (uint32_t)nl };
	idn_pubkey_encode_rsa(out, eb, nb);
	return out->err;
}

void idn_pkey_free(idn_pkey_t *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pk);
	free(k);
}
