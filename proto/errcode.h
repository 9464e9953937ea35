/* errcode.h - the one error enum of idnode, shared by every module. */
#ifndef IDN_ERRCODE_H
#define IDN_ERRCODE_H

#include <errno.h>

/*
 * Rules of use:
 * - Every function that can fail returns int: IDN_OK (0) or a negative code.
 * - errno values map straight to their negatives (IDN_ENOMEM = -ENOMEM).
 * - Codes of our own start at IDN_ERROR_MIN (-1000).
 * - Library codes (LMDB, OpenSSL, c-ares) are translated where they are
 *   called; none of them ever reaches a caller.
 * - idn_strerror() returns a static string; never NULL.
 */
enum idn_error {
	IDN_OK = 0,

	IDN_ENOMEM = -ENOMEM,
	IDN_EINVAL = -EINVAL,
	IDN_ENOENT = -ENOENT,
	IDN_EEXIST = -EEXIST,
	IDN_EACCES = -EACCES,
	IDN_EIO = -EIO,
	IDN_EAGAIN = -EAGAIN,
	IDN_ENOSPC = -ENOSPC,
	IDN_ERANGE = -ERANGE,
	IDN_ETIMEDOUT = -ETIMEDOUT,
	IDN_ECONNREFUSED = -ECONNREFUSED,

	IDN_ERROR_MIN = -1000,
	IDN_EFEWDATA = -1000,   /* input ends before the field does */
	IDN_ESPACE = -1001,     /* output buffer too small */
	IDN_EMALF = -1002,      /* malformed input (trailing bytes, bad value) */
	IDN_ELIMIT = -1003,     /* a length or count over its limit */
	IDN_EVERSION = -1004,   /* unsupported format or protocol version */
	IDN_ENOTFOUND = -1005,  /* no such record */
	IDN_EMAPFULL = -1006,   /* the store is full */
	IDN_ECORRUPT = -1007,   /* stored data does not decode */
	IDN_ECONFIG = -1008,    /* bad configuration */
	IDN_ECRYPTO = -1009,    /* a cryptographic operation failed */
	IDN_EPROTO = -1010,     /* peer broke the protocol */
	IDN_EBADHANDLE = -1011, /* handle syntax not acceptable */
	IDN_ERESPONSE = -1012,  /* peer answered with a non-success code */
	IDN_ESTORE = -1013,     /* other storage engine failure */
	IDN_EREADERS = -1014,   /* too many concurrent readers */
	IDN_ERROR_END = -1015,
};

/* Human-readable text for an idn_error (or any negative errno). Static. */
const char *idn_strerror(int code);

#endif
