# vellum - plain Makefile.  `make` builds, `make check` runs every test
# (plain build, then ASan+UBSan), `make demo` runs the sample ingest.

CC      ?= cc
BUILD   ?= build
PKGS    := libarchive libcrypto libxml-2.0 libmagic sqlite3 jansson icu-uc
TESTPKG := cmocka
SHARED  ?= $(abspath ../shared)

MODULES := common storage metadata fixity ingest
INCS    := $(addprefix -I,$(MODULES))

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_LIBS  := $(shell pkg-config --libs $(TESTPKG) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 \
           -Wno-unused-parameter
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(INCS) $(PKG_CFLAGS)
LDLIBS  := $(PKG_LIBS) -lpthread

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

.PHONY: all build deps check check-suites check-long demo bench fuzz clean

# deps runs first in its own make so that pkg-config sees freshly installed
# libraries when the build's flags are worked out.
all: deps
	@$(MAKE) --no-print-directory build

build: $(BUILD)/vellum $(UNIT_BINS) $(BUILD)/tests/killstep.so $(BUILD)/tests/hooks.so \
       $(TORTURE)

# install-deps only installs what is missing, so it is cheap to run each time.
deps:
	@tools/install-deps

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

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
$(BUILD)/tests/killstep.so: tests/faults/killstep.c
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
$(BUILD)/tests/hooks.so: tests/cli/hooks.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -fPIC -shared -o $@ $< -ldl

# One suite run: unit binaries and bats files, TAP counted by tests/run.
check-suites: build
	VELLUM_BUILD=$(abspath $(BUILD)) VELLUM_SHARED=$(SHARED) \
	  VELLUM_FUZZ_REGRESS=$(VELLUM_FUZZ_REGRESS) tests/run $(BUILD)

# The plain and the sanitizer suites run side by side (much of the time is
# spent waiting on fsync and child processes); each writes its own log.
# The plain suite kills at every step of each operation; the sanitizer
# suite, there to catch memory errors, at every fourth, and replays the
# fuzz corpora (the two suites then take about as long).
check: deps
	@rm -f build/.counts build-san/.counts
	@$(MAKE) --no-print-directory -j$$(nproc) BUILD=build build >/dev/null
	@$(MAKE) --no-print-directory -j$$(nproc) BUILD=build-san SANITIZE=1 CFLAGS="-O1 -g" build >/dev/null
	@mkdir -p build build-san
	@echo "running the plain and the ASan+UBSan suites (logs: build/check.log, build-san/check.log)"
	@( $(MAKE) --no-print-directory BUILD=build check-suites > build/check.log 2>&1 || true ) & \
	 ( VELLUM_KILL_STRIDE=4 $(MAKE) --no-print-directory BUILD=build-san SANITIZE=1 CFLAGS="-O1 -g" VELLUM_FUZZ_REGRESS=1 check-suites > build-san/check.log 2>&1 || true ) & \
	 wait
	@grep -hE '^(  FAIL|-- )' build/check.log build-san/check.log || true
	@tests/run --total build/.counts build-san/.counts

check-long: deps
	@$(MAKE) --no-print-directory build
	VELLUM_BUILD=$(abspath $(BUILD)) VELLUM_SHARED=$(SHARED) VELLUM_LONG=1 tests/run $(BUILD)

demo: all
	@VELLUM_SHARED=$(SHARED) tools/demo $(BUILD)/vellum

bench: all
	@tools/bench $(BUILD)/vellum $(BENCH)

fuzz: deps
	@tools/fuzz $(FUZZ_SECONDS)

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJS:.o=.d) $(TOOL_OBJS:.o=.d) $(UNIT_BINS:$(BUILD)/tests/%=$(BUILD)/tests/unit/%.d) \
         $(BUILD)/tests/faults/torture.d
