# proto/: the Handle wire codec and record encodings (pure; crypto via OpenSSL in crypto.c).
LIB_SRCS += $(wildcard proto/*.c)
