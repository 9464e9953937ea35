/* fuzz_config.c - libFuzzer target: the config file parser. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/idn-fuzz-conf-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	idn_config_t c;
	char err[512];
	idn_config_defaults(&c);
	if (idn_config_load_file(&c, path, err, sizeof(err)) == 0)
		idn_config_validate(&c, err, sizeof(err));
	unlink(path);
	return 0;
}
