# vellum - plain Makefile.
#   make            libvellum.a and the vellum program (installs what the
#                   build needs when missing: tools/install-deps --build)
#   make install    bin/vellum and the systemd audit units, under
#                   $(DESTDIR)$(PREFIX) (PREFIX /usr/local by default)
#   make build      the test build: vellum with test hooks, the unit tests
#                   and the test shims, warnings as errors
#   make check      installs what the tests need, then runs every test
#                   (plain build, then ASan+UBSan)
#   make demo       the sample ingest

CC      ?= cc
BUILD   ?= build
PKGS    := libarchive libcrypto libxml-2.0 libmagic sqlite3 jansson yajl icu-uc libcurl libpq
TESTPKG := cmocka
SHARED  ?= $(abspath ../shared)

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
# systemd looks for units of the local administrator here (and in
# /usr/lib/systemd/system for PREFIX=/usr).
UNITDIR ?= $(PREFIX)/lib/systemd/system

MODULES := common storage metadata fixity ingest
INCS    := $(addprefix -I,$(MODULES))

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_LIBS  := $(shell pkg-config --libs $(TESTPKG) 2>/dev/null)

# The test build is what `make build` and the check targets compile: it
# turns warnings into errors, and defines VELLUM_TEST_HOOKS, which lets the
# library read VELLUM_NOW (the clock the tests set).  The vellum that `make`
# builds and `make install` installs ignores VELLUM_NOW, and a compiler
# newer than ours that warns about more still builds it.
TEST_GOALS := build check check-suites check-long
ifneq ($(filter $(TEST_GOALS),$(MAKECMDGOALS)),)
TEST_BUILD ?= 1
endif

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wvla -Wformat=2 -Wno-unused-parameter
DEFS    := -D_GNU_SOURCE
ifeq ($(TEST_BUILD),1)
WARN    += -Werror
DEFS    += -DVELLUM_TEST_HOOKS
endif
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 $(DEFS) $(WARN) $(CFLAGS) $(INCS) $(PKG_CFLAGS)
LDLIBS  := $(PKG_LIBS) -lpthread -lm

ifeq ($(SANITIZE),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

# The allocation-failure torture (tests/faults/torture.c) runs on the plain
# build only: its shim replaces malloc, which ASan must own.
ifneq ($(SANITIZE),1)
TORTURE := $(BUILD)/tests/torture $(BUILD)/tests/allocfail.so
endif

LIB_SRCS := $(sort $(wildcard $(addsuffix /*.c,$(MODULES))))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
TOOL_SRCS := $(sort $(wildcard tools/*.c))
TOOL_OBJS := $(TOOL_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))

.SECONDARY:

.PHONY: all vellum build deps deps-build deps-test check check-suites \
        check-long demo bench fuzz install uninstall clean FORCE

# deps runs first in its own make so that pkg-config sees freshly installed
# libraries when the build's flags are worked out.
all: deps-build
	@$(MAKE) --no-print-directory vellum

vellum: $(BUILD)/vellum

build: $(BUILD)/vellum $(UNIT_BINS) $(BUILD)/tests/killstep.so $(BUILD)/tests/hooks.so \
       $(TORTURE)

# install-deps only installs what is missing, so it is cheap to run each
# time: --build what compiling needs, --test what the test suites need
# (bats, cmocka, clang, Chromium, node...).
deps:
	@tools/install-deps
deps-build:
	@tools/install-deps --build
deps-test:
	@tools/install-deps --build --test

# Each object depends on the flags it was compiled with ($(BUILD)/.flags,
# rewritten only when they change), so going from `make` to `make build`
# (or changing CFLAGS) recompiles what the other left.
FLAGS_NOW := $(CC) $(ALL_CFLAGS) | $(LDFLAGS) $(LDLIBS)
$(BUILD)/.flags: FORCE
	@mkdir -p $(@D)
	@echo '$(FLAGS_NOW)' | cmp -s - $@ || echo '$(FLAGS_NOW)' > $@

# Each module's private headers (*_private.h, *_internal.h) refuse to be
# included from outside the module's folder: they #error unless
# VL_<MODULE>_INTERNAL is defined, which only that folder's sources get,
# here.  (Defined empty, the same as a plain #define, so a source or a test
# that defines it itself is not a redefinition.)
$(BUILD)/common/%.o:   MOD_CFLAGS := -DVL_COMMON_INTERNAL=
$(BUILD)/storage/%.o:  MOD_CFLAGS := -DVL_STORAGE_INTERNAL=
$(BUILD)/metadata/%.o: MOD_CFLAGS := -DVL_METADATA_INTERNAL=
$(BUILD)/fixity/%.o:   MOD_CFLAGS := -DVL_FIXITY_INTERNAL=
$(BUILD)/ingest/%.o:   MOD_CFLAGS := -DVL_INGEST_INTERNAL=

$(BUILD)/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(MOD_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libvellum.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/vellum: $(TOOL_OBJS) $(BUILD)/libvellum.a
	$(CC) $(LDFLAGS) -o $@ $(TOOL_OBJS) $(BUILD)/libvellum.a $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libvellum.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libvellum.a $(LDLIBS) $(TEST_LIBS)

# The kill-at-every-step shim (tests/faults/killstep.c) is preloaded into
# vellum, so it is built without the sanitizers, as a plain shared object.
$(BUILD)/tests/killstep.so: tests/faults/killstep.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -fPIC -shared -o $@ $< -ldl

# The allocation-failure shim, preloaded into the torture driver (which
# re-executes itself with it); -rdynamic names the library's functions in
# the stacks it prints.
$(BUILD)/tests/allocfail.so: tests/faults/allocfail.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -fPIC -shared -o $@ $<

$(BUILD)/tests/torture: $(BUILD)/tests/faults/torture.o $(BUILD)/libvellum.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -rdynamic -o $@ $< $(BUILD)/libvellum.a $(LDLIBS)

# Test hooks the CLI tests preload into vellum (tests/cli/hooks.c): never
# sanitized, since they sit in front of the sanitizer's own interceptors.
$(BUILD)/tests/hooks.so: tests/cli/hooks.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -fPIC -shared -o $@ $< -ldl

# One suite run: unit binaries and bats files, TAP counted by tests/run.
check-suites: build
	VELLUM_BUILD=$(abspath $(BUILD)) VELLUM_SHARED=$(SHARED) \
	  VELLUM_FUZZ_REGRESS=$(VELLUM_FUZZ_REGRESS) VELLUM_FUZZ_LIB=$(VELLUM_FUZZ_LIB) \
	  tests/run $(BUILD)

# The plain and the sanitizer suites run side by side (much of the time is
# spent waiting on fsync and child processes); each writes its own log.
# To stay within ten minutes on two cores, the plain suite kills before
# every seventh step of each operation, fails every thirtieth allocation
# in the torture (the first and last 100 of each case always), kills at 12
# random moments and replays the fuzz corpora (the targets linked with
# the sanitizer build's library); the sanitizer suite, there to catch
# memory errors, kills before every 28th step and at 5 random moments.
# The S3 and PostgreSQL files run in one suite each (VELLUM_SPLIT,
# "# suite:" lines).  `make check-long` kills before every step, fails
# every allocation and runs tests/long/ (the test servers' own test).
check: deps-test
	@rm -f build/.counts build-san/.counts
	@mkdir -p build/services build-san
	@echo "starting the S3 (Ceph) and PostgreSQL test servers, shared by both suites, while both builds compile"
	@S=build/services; tools/test-ceph stop $$S/ceph --rm >/dev/null 2>&1; \
	 tools/test-postgres stop $$S/pg --rm >/dev/null 2>&1; \
	 trap 'tools/test-ceph stop $$S/ceph --rm >/dev/null 2>&1; tools/test-postgres stop $$S/pg --rm >/dev/null 2>&1' EXIT; \
	 ( tools/test-ceph start $$S/ceph > $$S/ceph.log 2>&1 || { echo "the S3 test server did not start:"; tail -3 $$S/ceph.log; } ) & ceph=$$!; \
	 tools/test-postgres start $$S/pg > $$S/pg.log 2>&1 || { echo "the PostgreSQL test server did not start:"; tail -3 $$S/pg.log; }; \
	 $(MAKE) --no-print-directory -j$$(nproc) BUILD=build build >/dev/null && \
	 $(MAKE) --no-print-directory -j$$(nproc) BUILD=build-san SANITIZE=1 CFLAGS="-O1 -g" build >/dev/null || \
	 { echo "the build failed"; wait $$ceph; exit 2; }; \
	 wait $$ceph; \
	 set -a; [ -f $$S/ceph/env ] && . $$S/ceph/env; [ -f $$S/pg/env ] && . $$S/pg/env; set +a; \
	 export VELLUM_TEST_S3CFG=$(abspath build/services/ceph/s3cfg) VELLUM_SERVICES=0; \
	 echo "running the plain and the ASan+UBSan suites (logs: build/check.log, build-san/check.log)"; \
	 ( VELLUM_SPLIT=plain VELLUM_KILL_STRIDE=7 VELLUM_TORTURE_STRIDE=30 VELLUM_CRASH_TRIALS=12 $(MAKE) --no-print-directory BUILD=build VELLUM_FUZZ_REGRESS=1 VELLUM_FUZZ_LIB=$(abspath build-san) check-suites > build/check.log 2>&1 || true ) & \
	 ( VELLUM_SPLIT=sanitized VELLUM_KILL_STRIDE=28 VELLUM_CRASH_TRIALS=5 $(MAKE) --no-print-directory BUILD=build-san SANITIZE=1 CFLAGS="-O1 -g" check-suites > build-san/check.log 2>&1 || true ) & \
	 wait
	@grep -hE '^(  FAIL|-- )' build/check.log build-san/check.log || true
	@tests/run --total build/.counts build-san/.counts

check-long: deps-test
	@$(MAKE) --no-print-directory build
	VELLUM_BUILD=$(abspath $(BUILD)) VELLUM_SHARED=$(SHARED) VELLUM_LONG=1 tests/run $(BUILD)

# The demo needs python3 besides the build; the benchmarks use test tools
# (GNU time, python3, node for the peer comparison).
demo:
	@tools/install-deps --build --demo
	@$(MAKE) --no-print-directory vellum
	@VELLUM_SHARED=$(SHARED) tools/demo $(BUILD)/vellum

bench: deps-test
	@$(MAKE) --no-print-directory vellum
	@tools/bench $(BUILD)/vellum $(BENCH)

fuzz: deps-test
	@tools/fuzz $(FUZZ_SECONDS)

# Installs what `make` built (building it first when needed): the program,
# and the nightly audit's systemd service and timer with the service's
# ExecStart pointed at $(BINDIR)/vellum.  DESTDIR stages the tree for a
# package.
install: $(BUILD)/vellum
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BUILD)/vellum $(DESTDIR)$(BINDIR)/vellum
	sed 's|^ExecStart=/usr/local/bin/vellum |ExecStart=$(BINDIR)/vellum |' \
	  tools/vellum-audit.service > $(DESTDIR)$(UNITDIR)/vellum-audit.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/vellum-audit.service
	install -m 0644 tools/vellum-audit.timer $(DESTDIR)$(UNITDIR)/vellum-audit.timer

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vellum \
	  $(DESTDIR)$(UNITDIR)/vellum-audit.service \
	  $(DESTDIR)$(UNITDIR)/vellum-audit.timer

clean:
	rm -rf build build-san build-fuzz $(BUILD)

-include $(LIB_OBJS:.o=.d) $(TOOL_OBJS:.o=.d) $(UNIT_BINS:$(BUILD)/tests/%=$(BUILD)/tests/unit/%.d) \
         $(BUILD)/tests/faults/torture.d
