/* errcode.c - messages for the idn_error codes. */
#include <string.h>

#include "proto/errcode.h"

static const char *const own_msgs[] = {
	[-(IDN_EFEWDATA - IDN_ERROR_MIN)] = "input truncated",
	[-(IDN_ESPACE - IDN_ERROR_MIN)] = "not enough output space",
	[-(IDN_EMALF - IDN_ERROR_MIN)] = "malformed data",
	[-(IDN_ELIMIT - IDN_ERROR_MIN)] = "length or count over the limit",
	[-(IDN_EVERSION - IDN_ERROR_MIN)] = "unsupported version",
	[-(IDN_ENOTFOUND - IDN_ERROR_MIN)] = "not found",
	[-(IDN_EMAPFULL - IDN_ERROR_MIN)] = "store is full",
	[-(IDN_ECORRUPT - IDN_ERROR_MIN)] = "stored data is corrupt",
	[-(IDN_ECONFIG - IDN_ERROR_MIN)] = "configuration error",
	[-(IDN_ECRYPTO - IDN_ERROR_MIN)] = "cryptographic operation failed",
	[-(IDN_EPROTO - IDN_ERROR_MIN)] = "protocol error",
	[-(IDN_EBADHANDLE - IDN_ERROR_MIN)] = "invalid handle",
	[-(IDN_ERESPONSE - IDN_ERROR_MIN)] = "error response from peer",
	[-(IDN_ESTORE - IDN_ERROR_MIN)] = "storage engine error",
	[-(IDN_EREADERS - IDN_ERROR_MIN)] = "too many readers",
};

const char *idn_strerror(int code)
{
	if (code == IDN_OK)
		return "success";
	if (code <= IDN_ERROR_MIN && code > IDN_ERROR_END) {
		const char *m = own_msgs[-(code - IDN_ERROR_MIN)];
		return m ? m : "unknown error";
	}
	if (code < 0 && code > IDN_ERROR_MIN)
		return strerror(-code);
	return "unknown error";
}
