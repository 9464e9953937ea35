/* fuzz_volreport.c - libFuzzer target: the daily volume report a top reads from an IDNODE_VOLUME value (JSON, report text, base64 signature), with and without a site to check it against. */
#include <stdlib.h>
#include <string.h>

#include "proto/volreport.h"

/* A site with one server and no key: the signature check runs and fails. */
static const uint8_t site[] = { 0, 1, 2, 11, 0, 1, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 1,
				0, 0, 0, 1, 0, 0, 0, 1, 127, 0, 0, 1, 0, 0, 0, 0, 0,
				0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	idn_volreport_t v;
	bool ok;
	for (int pass = 0; pass < 2; pass++) {
		if (idn_volreport_parse(data, size, pass ? site : NULL, pass ? sizeof(site) : 0, &v,
					&ok) != IDN_OK)
			return 0;
		/* Fixed-size fields always come back terminated; nothing verifies
		 * against a site that has no key. */
		if (strnlen(v.node, sizeof(v.node)) == sizeof(v.node) ||
		    strnlen(v.date, sizeof(v.date)) == sizeof(v.date) || ok)
			abort();
	}
	/* What parsed prints back as a report (unsigned). */
	char *out;
	size_t len;
	if (idn_volreport_build(&v, NULL, &out, &len) == IDN_OK)
		free(out);
	return 0;
}
