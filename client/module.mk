# client/: the Handle client used by the CLI, the benches and (later) recursion and the outbox.
LIB_SRCS += $(wildcard client/*.c)
