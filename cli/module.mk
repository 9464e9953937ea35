# cli/: the idnode command-line tool.
CLI_SRCS := $(wildcard cli/*.c)
BINS += $(BUILD)/idnode

$(BUILD)/idnode: $(CLI_SRCS:%.c=$(BUILD)/%.o) $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDLIBS)
