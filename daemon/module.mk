# daemon/: idnoded's main and the configuration table.
LIB_SRCS += $(filter-out daemon/main.c,$(wildcard daemon/*.c))
BINS += $(BUILD)/idnoded

$(BUILD)/idnoded: $(BUILD)/daemon/main.o $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDLIBS)
