/* addr.c - numeric socket address parsing and printing. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/addr.h"
#include "proto/errcode.h"

int idn_parse_hostport(const char *str, uint16_t defport, struct sockaddr_storage *ss,
		       unsigned *sslen)
{
	char host[256];
	const char *portstr = NULL;
	memset(ss, 0, sizeof(*ss));
	if (str[0] == '[') {
		const char *end = strchr(str, ']');
		if (!end || (size_t)(end - str - 1) >= sizeof(host))
			return IDN_EINVAL;
		memcpy(host, str + 1, (size_t)(end - str - 1));
		host[end - str - 1] = 0;
		if (end[1] == ':')
			portstr = end + 2;
		else if (end[1] != 0)
			return IDN_EINVAL;
	} else {
		const char *colon = strrchr(str, ':');
		size_t hl = colon ? (size_t)(colon - str) : strlen(str);
		if (hl >= sizeof(host) || (colon && strchr(str, ':') != colon))
			return IDN_EINVAL;
		memcpy(host, str, hl);
		host[hl] = 0;
		if (colon)
			portstr = colon + 1;
	}
	long port = defport;
	if (portstr) {
		char *e;
		port = strtol(portstr, &e, 10);
		if (*portstr == 0 || *e != 0 || port < 0 || port > 65535)
			return IDN_EINVAL;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*s6);
	} else {
		return IDN_EINVAL;
	}
	return IDN_OK;
}

void idn_format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}
