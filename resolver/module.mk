# resolver/: the read side: query processing and the UDP/TCP listeners.
LIB_SRCS += $(wildcard resolver/*.c)
