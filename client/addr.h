/* addr.h - numeric socket address parsing and printing shared by the daemon, the client and the tools. */
#ifndef IDN_ADDR_H
#define IDN_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Parse "HOST:PORT", "[V6]:PORT" or "HOST" (port = defport); HOST is a
 * numeric IPv4 or IPv6 address. Returns IDN_OK or IDN_EINVAL. */
int idn_parse_hostport(const char *s, uint16_t defport, struct sockaddr_storage *ss,
		       unsigned *sslen);

/* "1.2.3.4:2641" or "[::1]:2641" into buf. */
void idn_format_addr(const struct sockaddr *sa, char *buf, size_t len);

#endif
