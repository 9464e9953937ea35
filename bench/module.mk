# bench/: load generators and the raw loopback responders.
BENCH_SRCS := $(wildcard bench/*.c)
BINS += $(BUILD)/idnode-bench

$(BUILD)/idnode-bench: $(BENCH_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDLIBS)
