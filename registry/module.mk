# registry/: the write side (authentication, registration, prefixes).
LIB_SRCS += $(wildcard registry/*.c)
