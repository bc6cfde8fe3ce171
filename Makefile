# Switchboard build.  `make run` and `make test` are the two commands; the
# rest are their parts.  MODE=release (default) builds into build/release,
# MODE=asan into build/asan with AddressSanitizer and UBSan (the tests),
# MODE=tsan into build/tsan with ThreadSanitizer (the threaded unit tests).

MODE ?= release
B := build/$(MODE)

CC ?= cc
PKGS := libcjson libsodium libcurl libcrypto sqlite3
# pkg-config and the -dev packages may not be installed when this file is
# read: `deps` installs them.  So these are asked when a recipe first uses
# them (after every compile and link has waited for `deps`, below), once.
PKG_CFLAGS = $(eval PKG_CFLAGS := $(call pkg,--cflags))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $(call pkg,--libs))$(PKG_LIBS)
# Only what serves FastCGI links libfcgi: sbctl needs none.
FCGI_LIBS := -lfcgi
pkg = $(or $(shell pkg-config $(1) $(PKGS)),$(error pkg-config $(1) \
	$(PKGS) failed: run `make deps`))

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2
STD := -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -pthread
ifeq ($(MODE),asan)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
LDOPT := -fsanitize=address,undefined
else ifeq ($(MODE),tsan)
OPT := -O1 -g -fsanitize=thread
LDOPT := -fsanitize=thread
else
OPT := -O2 -g
LDOPT :=
endif
CFLAGS_ALL = $(STD) $(WARN) $(OPT) -Iinclude $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := $(LDOPT) -pthread $(LDFLAGS)

LIB_SRC := $(sort $(wildcard lib/*.c lib/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
LIB := $(B)/libswitchboard.a
RESPONDERS := gateway proxy integrations projects events users sandbox fetch
BINS := $(RESPONDERS:%=$(B)/bin/%) $(B)/bin/sbctl
# The benchmark's floors (bench/fcgi/): built by `make bench` only.
BENCH_BINS := $(patsubst bench/fcgi/%.c,$(B)/bench/%,$(wildcard bench/fcgi/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNITS := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# The unit tests that run threads (the users responder's are threads),
# built again with ThreadSanitizer by `make test` (tests/run names them too).
TSAN_UNITS := $(patsubst %,build/tsan/tests/test_%,group inflight owner work)
HEADERS := $(wildcard include/sb/*.h include/sb/*/*.h lib/*/*.h fcgi/*/*.h)

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 5

# Keep every object: responders are rebuilt from them incrementally.
.SECONDARY:

.PHONY: all build deps run start stop test unit e2e fuzz fuzz-build lint \
	bench format clean

all: build

build: $(BINS)

deps:
	@scripts/deps

$(B)/%.o: %.c $(HEADERS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(B)/bin/sbctl: $(B)/cron/sbctl.o $(LIB) | deps
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

# A responder is fcgi/<name>.c plus, if it grows, the files of fcgi/<name>/.
$(B)/bin/%: $(B)/fcgi/%.o $(LIB) | deps
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(LIB) $(PKG_LIBS) $(FCGI_LIBS)
$(foreach r,$(RESPONDERS),$(eval $(B)/bin/$(r): \
	$(patsubst %.c,$(B)/%.o,$(wildcard fcgi/$(r)/*.c))))

$(B)/bench/%: $(B)/bench/fcgi/%.o | deps
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) $(FCGI_LIBS)

# A unit test is tests/unit/test_<module>.c plus the shared fixture code of
# tests/unit/support.c (not a test itself: UNIT_SRC takes test_*.c only).
$(UNIT_SRC:%.c=$(B)/%.o) $(B)/tests/unit/support.o: tests/unit/support.h
$(B)/tests/%: $(B)/tests/unit/%.o $(B)/tests/unit/support.o $(LIB) | deps
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS) $(FCGI_LIBS) -lcmocka

# Fuzz targets: clang's libFuzzer with ASan and UBSan over the library,
# compiled once for them (-fsanitize=fuzzer-no-link) into its own archive.
FUZZ_FLAGS = $(STD) $(WARN) -g -O1 -Iinclude $(PKG_CFLAGS) \
	-fsanitize=address,undefined
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build/fuzz/%.o)
build/fuzz/lib/%.o: lib/%.c $(HEADERS) | deps
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
build/fuzz/libswitchboard.a: $(FUZZ_LIB_OBJ)
	$(AR) rcs $@ $^
build/fuzz/%: tests/fuzz/%.c build/fuzz/libswitchboard.a | deps
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $^ $(PKG_LIBS) $(FCGI_LIBS)

fuzz-build: $(FUZZ_BINS)

run: deps build
	@scripts/stack run

start: deps build
	@scripts/stack start

stop:
	@scripts/stack stop

unit:
	@$(MAKE) --no-print-directory MODE=asan $(patsubst build/release/%,build/asan/%,$(UNITS))

test: deps
	@$(MAKE) --no-print-directory MODE=asan build unit
	@$(MAKE) --no-print-directory MODE=tsan $(TSAN_UNITS)
	@$(MAKE) --no-print-directory fuzz-build
	@tests/run

fuzz: fuzz-build
	@tests/fuzz/run $(FUZZ_SECONDS)

lint:
	@scripts/lint

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

bench: deps build $(BENCH_BINS)
	@bench/run

clean:
	rm -rf build
