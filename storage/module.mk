# storage/: the LMDB store, the only code that includes lmdb.h.
LIB_SRCS += $(wildcard storage/*.c)
