# tcplua build. `make run` and `make check` are the two newcomer commands (README.md).
# Sources are globbed so adding a file never needs a Makefile edit:
#   core/*.c api/*.c          -> build/tcplua (core/main.c holds main())
#   core/tests/test_*.c ...   -> one Check binary each, linked with every other object
#   fuzz/fuzz_*.c             -> one libFuzzer binary each (clang)
CC      ?= gcc
BUILD   ?= build
OPT     ?= -O2 -g
SAN     ?=
PYTHON  ?= /usr/bin/python3
FUZZ_SECONDS ?= 60

# Debian packages the build and every test need; `make deps` installs the missing ones
# (netcat-openbsd: the README's try-it line).
DEB_PKGS := gcc make pkg-config libluajit2-5.1-dev libev-dev check python3-pytest python3-pytest-xdist valgrind \
            clang libclang-rt-14-dev libc-ares-dev libssl-dev zlib1g-dev libpcre2-dev clang-format \
            redis-server memcached lua-nginx-redis lua-nginx-memcached netcat-openbsd

# Deferred (=, not :=) so that on a fresh machine pkg-config runs after `deps` installed it.
LUA_CFLAGS = $(shell pkg-config --cflags luajit 2>/dev/null)
LUA_LIBS   = $(shell pkg-config --libs luajit 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null)

# Core knows nothing of Lua: it is compiled without LuaJIT's headers and its unit tests link
# without LuaJIT. Only core/main.c, the composition root, sees api/.
CORE_CFLAGS = $(OPT) $(SAN) -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Icore
CFLAGS  = $(CORE_CFLAGS) -Iapi $(LUA_CFLAGS)
LDFLAGS = $(SAN)
# Functions the Lua side calls through LuaJIT's FFI (ffi.C.tcplua_ffi_*): exported from the binary.
FFI_LDFLAGS = -Wl,--export-dynamic-symbol=tcplua_ffi_*
# Debian's libev ships no .pc file. c-ares is core's too (resolver.c), so core's tests link it.
CORE_LIBS = -lev -lm -lcares
LDLIBS  = $(LUA_LIBS) $(CORE_LIBS) -lcrypto -lz -lpcre2-8

SRCS     := $(wildcard core/*.c api/*.c)
LIB_SRCS := $(filter-out core/main.c,$(SRCS))
OBJS     := $(SRCS:%.c=$(BUILD)/%.o)
CORE_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(filter-out core/main.c,$(wildcard core/*.c)))
# Lua modules of the server (api/*.lua) ship inside the binary as C arrays (ci/lua2c.sh).
LUA_MODS  := $(wildcard api/*.lua)
API_OBJS  := $(patsubst %.c,$(BUILD)/%.o,$(wildcard api/*.c)) $(LUA_MODS:api/%.lua=$(BUILD)/gen/%_lua.o)
UNIT_SRCS := $(wildcard core/tests/test_*.c api/tests/test_*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)
FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=build-fuzz/%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=build-fuzz/%.o) $(LUA_MODS:api/%.lua=build-fuzz/gen/%_lua.o)

.PHONY: all deps run check unit valgrind conformance abuse selftest spec-coverage fuzz fuzz-build fuzz-replay asan bench bench-shdict bench-proxy clean
all: $(BUILD)/tcplua

deps:
	@sh ci/deps.sh $(DEB_PKGS)

$(BUILD)/core/%.o: core/%.c $(wildcard core/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -c -o $@ $<
$(BUILD)/core/main.o: core/main.c $(wildcard core/*.h api/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<
$(BUILD)/api/%.o: api/%.c $(wildcard core/*.h api/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tcplua: $(OBJS) $(LUA_MODS:api/%.lua=$(BUILD)/gen/%_lua.o)
	$(CC) $(LDFLAGS) $(FFI_LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/gen/%_lua.c: api/%.lua ci/lua2c.sh
	@mkdir -p $(dir $@)
	sh ci/lua2c.sh $< tcplua_lua_$* >$@
$(BUILD)/gen/%_lua.o: $(BUILD)/gen/%_lua.c
	$(CC) $(CORE_CFLAGS) -c -o $@ $<
build-fuzz/gen/%_lua.o: $(BUILD)/gen/%_lua.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

$(BUILD)/libcore.a: $(CORE_OBJS)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/libapi.a: $(API_OBJS)
	rm -f $@ && ar rcs $@ $^

# Core's tests: no LuaJIT on their command line, so a core file that needed it fails here.
$(BUILD)/%/tests/%: ;
$(BUILD)/core/tests/test_%: core/tests/test_%.c $(BUILD)/libcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcore.a $(CORE_LIBS) $(CHECK_LIBS)
$(BUILD)/api/tests/test_%: api/tests/test_%.c $(BUILD)/libapi.a $(BUILD)/libcore.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) $(FFI_LDFLAGS) -o $@ $< $(BUILD)/libapi.a $(BUILD)/libcore.a $(LDLIBS) $(CHECK_LIBS)

run: deps all
	$(BUILD)/tcplua -p examples/ -c conf/tcplua.conf

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

# The unit tests under Valgrind (no fork, so leaks are attributed to the test that made them),
# then the server under memcheck through the conformance suite (adapter valgrind; every
# process's report in $(BUILD)/valgrind/, judged by ci/valgrind_check.sh: 0 errors, 0 definite
# leaks). The subset: every file of sessions, graceful stops and the Lua API (about 1,000 cases,
# ~6 minutes on 2 cores); the configuration files (parsing, covered by fuzzing under ASan), the
# process and signal files (multi-process timing) and test_privileges.py (setuid and rlimits
# do not hold under Valgrind) are left out. Deadlines are raised for the slowdown.
VALGRIND_CASES ?= test_hello.py test_session.py test_receive.py test_output.py test_lua_log.py \
  test_errlog.py test_string.py test_time.py test_control.py test_cosocket.py test_cosocket_clients.py \
  test_cosocket_reference.py test_shdict.py test_robustness.py test_accesslog.py test_graceful.py test_regex.py
valgrind: $(UNIT_BINS) all
	@set -e; for t in $(UNIT_BINS); do echo "== valgrind $$t"; \
	  CK_FORK=no valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=1 $$t; done
	@rm -rf $(BUILD)/valgrind
	cd conformance && TCPLUA_DEADLINE=20 TCPLUA_READY_TIMEOUT=60 TCPLUA_STOP_TIMEOUT=120 \
	  TCPLUA_VALGRIND_DIR=$(CURDIR)/$(BUILD)/valgrind TCPLUA_BIN=$(CURDIR)/$(BUILD)/tcplua \
	  $(PYTHON) -m pytest -q -n 2 --impl valgrind --spec-report=$(CURDIR)/$(BUILD)/valgrind-report.json $(VALGRIND_CASES)
	@sh ci/valgrind_check.sh $(BUILD)/valgrind

# The conformance suite (conformance/README.md). IMPL names an adapter and its expectations
# file, IMPL_BIN its binary; PYTEST_ARGS adds pytest options (-n auto, -k EXPR, files).
# REPEAT=N runs the suite N times, stops at the first failing run and names the cases whose
# outcome differed between runs (per-run reports in $(BUILD)/repeat/).
IMPL     ?= reference
IMPL_BIN ?=
REPEAT   ?= 1
CONFORMANCE_PYTEST = TCPLUA_BIN=$(CURDIR)/$(BUILD)/tcplua $(PYTHON) -m pytest -q --impl=$(IMPL) \
                     $(if $(IMPL_BIN),--impl-bin=$(abspath $(IMPL_BIN)))
conformance: $(if $(filter reference,$(IMPL)),all)
ifeq ($(REPEAT),1)
	cd conformance && $(CONFORMANCE_PYTEST) $(PYTEST_ARGS)
else
	@rm -rf $(BUILD)/repeat && mkdir -p $(BUILD)/repeat && cd conformance && rc=0; \
	for i in $$(seq 1 $(REPEAT)); do echo "== conformance run $$i of $(REPEAT)"; \
	  $(CONFORMANCE_PYTEST) --spec-report=$(CURDIR)/$(BUILD)/repeat/run$$i.json $(PYTEST_ARGS) \
	    || { rc=$$?; echo "== run $$i failed (exit $$rc); stopping"; break; }; done; \
	$(PYTHON) -m tcplua_harness.report --compare $(CURDIR)/$(BUILD)/repeat/run*.json; exit $$rc
endif

# The suite judging a deliberately broken implementation (the reference with two injected
# faults, conformance/tcplua_harness/adapters/selftest.py) must fail exactly the cases of
# conformance/selftest/expected.txt: proof that the suite fails where it must.
selftest: all
	cd conformance && TCPLUA_BIN=$(CURDIR)/$(BUILD)/tcplua $(PYTHON) -m pytest -q -n 2 --impl selftest \
	  --expectations=selftest/expected.txt --spec-report=$(CURDIR)/$(BUILD)/selftest-report.json

spec-coverage:
	@$(PYTHON) ci/spec_coverage.py SPEC.md conformance

# The abuse suite (ci/abuse/README.md): 10,000 concurrent connections, a never-reading client,
# 100,000 sequential connections and 11,000 Lua errors with RSS slopes, descriptor exhaustion,
# reloads under keepalive load; loopback only, about a minute. Figures: $(BUILD)/abuse-report.md.
# ABUSE_ARGS adds pytest options (-k EXPR); not PYTEST_ARGS, whose -n would skew the timings.
abuse: all
	cd ci/abuse && TCPLUA_BIN=$(CURDIR)/$(BUILD)/tcplua $(PYTHON) -m pytest -q $(ABUSE_ARGS)

check: deps all unit conformance abuse selftest spec-coverage fuzz-replay

# ASan+UBSan build of the server and units in build-asan/, then the same checks against it.
asan: deps
	$(MAKE) BUILD=build-asan CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" all unit conformance

# libFuzzer targets (clang). Objects are rebuilt with fuzzer instrumentation in build-fuzz/.
FUZZ_CFLAGS = -O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Icore -Iapi $(LUA_CFLAGS) \
               -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
build-fuzz/%.o: %.c $(wildcard core/*.h api/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<
build-fuzz/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB_OBJS)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)
.SECONDARY: $(FUZZ_LIB_OBJS)
fuzz-build: $(FUZZ_BINS)

# Replays every seed and every saved crasher once: the regression half of fuzzing.
fuzz-replay: fuzz-build
	@set -e; for b in $(FUZZ_BINS); do n=$${b#build-fuzz/fuzz_}; \
	  files=$$(ls fuzz/corpus/$$n/* fuzz/regression/$$n/* 2>/dev/null || true); \
	  echo "== replay $$b ($$(echo $$files | wc -w) inputs)"; \
	  [ -z "$$files" ] || $$b $$files >build-fuzz/replay-$$n.log 2>&1 || { tail -40 build-fuzz/replay-$$n.log; exit 1; }; done

fuzz: fuzz-build
	@set -e; for b in $(FUZZ_BINS); do n=$${b#build-fuzz/fuzz_}; mkdir -p build-fuzz/corpus-$$n; \
	  dict=""; [ -f fuzz/$$n.dict ] && dict="-dict=fuzz/$$n.dict"; \
	  $$b build-fuzz/corpus-$$n fuzz/corpus/$$n $$dict -max_total_time=$(FUZZ_SECONDS) \
	      -artifact_prefix=fuzz/regression/$$n/ -print_final_stats=1; done

# CPU per round trip and memory per idle connection against a C echo server and HAProxy.
bench: all
	bash bench/run.sh

# ngx.shared.DICT get/set/incr rates, zone overhead and two-worker incr against ngx_lua.
bench-shdict: all
	bash bench/shdict.sh

# A 64-byte-frame proxy over a pooled cosocket (and without a pool) against stream-lua; not in
# `make check`. stream-lua runs when STREAMLUA_NGINX (and STREAMLUA_MODULE) are set, as for bench.
bench-proxy: all
	bash bench/proxy.sh

# clang-format (style: .clang-format) over all C in core/ api/ fuzz/ bench/; file list in ci/format.sh.
.PHONY: format format-check
format:
	@sh ci/format.sh apply
format-check:
	@sh ci/format.sh check

clean:
	rm -rf build build-asan build-fuzz

# Mutation testing (ci/mutants.sh, ci/mutants/README.md): each ci/mutants/*.patch is a fault
# that the named conformance subsets (and unit tests) must catch. Not in `make check`: one
# rebuild and a few test files per mutant. MUTANTS="001 017" runs a subset.
.PHONY: mutants
mutants:
	bash ci/mutants.sh
