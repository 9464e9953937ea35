# Makefile - idnode: Handle-protocol secondary node (non-recursive; one module.mk per folder).
#
# Variables you may set:
#   CC          C compiler (default cc)
#   SANITIZER   e.g. address,undefined: build with -fsanitize=... into build-san/
#   OPT         optimisation flags (default -O2)
#   BUILD       build folder (default build, or build-san with SANITIZER)
#   PREFIX      install prefix (default /usr/local); DESTDIR for staged installs
#   UNITDIR, SYSUSERSDIR, DOCDIR  where install puts the systemd unit, the sysusers entry, README
#   FUZZ_SECONDS seconds per fuzz target for `make fuzz` (default 60)
#
# Targets: all (default), run, test, check, bench, fuzz, install, uninstall, clean.
#   make run    installs missing Debian packages, builds, starts a demo node
#   make test   installs, builds with ASan+UBSan, runs every test

CC ?= cc
OPT ?= -O2
SANITIZER ?=
ifeq ($(SANITIZER),)
BUILD ?= build
else
BUILD ?= build-san
endif
PREFIX ?= /usr/local
DESTDIR ?=
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DOCDIR ?= $(PREFIX)/share/doc/idnode
FUZZ_SECONDS ?= 60

PKGS := libevent libevent_pthreads libevent_openssl lmdb openssl libcares jansson
WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wno-unused-parameter
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -g $(OPT) $(WARN) -I. -MMD -MP -pthread
LDLIBS_BASE := -pthread

ifneq ($(SANITIZER),)
CFLAGS_BASE += -fsanitize=$(SANITIZER) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDLIBS_BASE += -fsanitize=$(SANITIZER)
endif

# pkg-config is only asked when building (not for clean / install-deps).
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ALL_CFLAGS = $(CFLAGS_BASE) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDLIBS = $(PKG_LIBS) $(LDLIBS_BASE) $(LDLIBS)

# The first goal is `all`, whatever the module fragments define.
.DEFAULT_GOAL := all

LIB := $(BUILD)/libidnode.a
LIB_SRCS :=
BINS :=
TESTS :=

include proto/module.mk
include storage/module.mk
include client/module.mk
include resolver/module.mk
include registry/module.mk
include daemon/module.mk
include cli/module.mk
include bench/module.mk
include tests/module.mk

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)

.PHONY: all run test check bench soak bench-http bench-idis bench-recursion fuzz install uninstall clean deps unit integration

all: deps $(BINS)

deps:
	@deploy/install-deps.sh

# Packages are installed before anything compiles, also under make -j.
$(BUILD)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# `make run`: a demo node on 127.0.0.1 with the embedded default config.
run: all
	@mkdir -p run
	$(BUILD)/idnoded --data-dir=$(CURDIR)/run/data --demo

# `make test`: sanitizer build, then every unit, fuzz-replay and integration test.
test: deps
	$(MAKE) SANITIZER=address,undefined check

check: $(BINS) $(TESTS)
	@tests/run-tests.sh $(BUILD) $(TESTS)

bench: all
	bench/run-bench.sh $(BUILD)
	bench/run-http.sh $(BUILD)
	bench/run-register.sh $(BUILD)
	bench/run-idis.sh $(BUILD)
	bench/run-recursion.sh $(BUILD)

# Resolution through the top (warm recursion cache) vs local resolution, same run.
bench-recursion: all
	bench/run-recursion.sh $(BUILD)

# Ten minutes of mixed load on one daemon: memory, fds, acknowledged writes (not part of make bench).
soak: all
	bench/run-soak.sh $(BUILD)

# IDIS logins vs per-request challenge-response: registrations/s, same run.
bench-idis: all
	bench/run-idis.sh $(BUILD)

# HTTP API only: keep-alive GETs vs a minimal evhttp responder, same run.
bench-http: all
	bench/run-http.sh $(BUILD)

# Registration only: durable registrations/s vs LMDB's ceiling, resolution while writing.
bench-register: all
	bench/run-register.sh $(BUILD)

# `make install`: binaries, example config, systemd unit and sysusers entry (README: Operating a node).
# The unit's /usr/local paths become $(PREFIX)'s. The config is not put in /etc: the operator copies
# $(PREFIX)/share/idnode/idnode.conf to /etc/idnode/idnode.conf.
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/idnode \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR)
	install -m 755 $(BUILD)/idnoded $(DESTDIR)$(PREFIX)/sbin/idnoded
	install -m 755 $(BUILD)/idnode $(DESTDIR)$(PREFIX)/bin/idnode
	install -m 644 deploy/idnode.conf $(DESTDIR)$(PREFIX)/share/idnode/idnode.conf
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/README.md
	sed -e 's|/usr/local/|$(PREFIX)/|g' deploy/idnoded.service > $(DESTDIR)$(UNITDIR)/idnoded.service
	chmod 644 $(DESTDIR)$(UNITDIR)/idnoded.service
	install -m 644 deploy/idnode.sysusers $(DESTDIR)$(SYSUSERSDIR)/idnode.conf

# Removes what `make install` put there (not /etc/idnode, not the data directory).
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/idnoded $(DESTDIR)$(PREFIX)/bin/idnode \
		$(DESTDIR)$(PREFIX)/share/idnode/idnode.conf $(DESTDIR)$(DOCDIR)/README.md \
		$(DESTDIR)$(UNITDIR)/idnoded.service $(DESTDIR)$(SYSUSERSDIR)/idnode.conf
	rmdir $(DESTDIR)$(PREFIX)/share/idnode $(DESTDIR)$(DOCDIR) 2>/dev/null || true

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
