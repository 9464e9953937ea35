# tests/: cmocka unit tests (one binary per tests/<module>/test_*.c), fuzz targets, integration.
UNIT_SRCS := $(wildcard tests/*/test_*.c)
UNIT_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/fuzz/replay_%,$(FUZZ_SRCS))
TESTS += $(UNIT_BINS) $(FUZZ_REPLAY)

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/util/testutil.o $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDLIBS) -lcmocka

$(BUILD)/tests/fuzz/replay_%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/replay_main.o $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(ALL_LDLIBS)

# libFuzzer builds (clang) go to build-fuzz/, driven by the script.
fuzz: deps
	tests/fuzz/run-fuzz.sh $(FUZZ_SECONDS)
