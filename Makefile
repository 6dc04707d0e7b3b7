# paird: one flat Makefile (STYLE.md rule 17). `make run` and `make test` are
# the two commands; both install what is missing first (make deps).
#
#   make            build build/paird and build/pairctl (the CLI)
#   make run        deps + build + start paird on 127.0.0.1:8080 with the dashboard
#   make test       deps + build + unit, integration and contract suites
#   make asan       the same suites on an ASan+UBSan build
#   make deps       apt-get install what is missing (a no-op when all is there)
#   make check      clang-format (dry run), cppcheck and clang-tidy over the sources
#   make format     clang-format the sources in place
#   make format-check  fail if `make format` would change a source (make test runs it)
#   make bench      benchmarks (tests/bench/), measured, never pass/fail
#   make install    binary, systemd unit, man pages under PREFIX (/usr/local); DESTDIR honoured
#   V=1             show the commands

VERSION	:= 0.1.0
BUILD	?= build
CC	?= gcc
OPT	?= -O2 -g
SAN	?=
Q	:= $(if $(V),,@)

PKGS	:= libmicrohttpd jansson libevent libmnl libpcap
WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Werror
# Recursive (=) on purpose: pkg-config runs when a recipe does, after `make deps`.
CFLAGS	= -std=gnu11 -D_GNU_SOURCE $(WARN) $(OPT) $(SAN) -MMD -MP \
	  -DPAIRD_VERSION='"$(VERSION)"' $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS	= $(shell pkg-config --libs $(PKGS) 2>/dev/null)

SERVICE_SRCS	:= $(wildcard service/*.c)
API_SRCS	:= $(wildcard api/*.c)
LIB_OBJS	:= $(patsubst %.c,$(BUILD)/%.o,$(SERVICE_SRCS) $(API_SRCS)) $(BUILD)/gen/assets.o
ASSETS		:= $(sort $(wildcard webui/*.html webui/*.js webui/*.css webui/*.svg)) openapi.yaml
UNIT_SRCS	:= $(wildcard tests/unit/test_*.c)
UNIT_BINS	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FAKE_OBJS	:= $(BUILD)/tests/fakes/portio_mem.o
TEST_OBJS	:= $(FAKE_OBJS) $(BUILD)/tests/unit/support.o
# Each fuzz target's entry point again, built with $(CC) and a plain driver
# (tests/fuzz/replay.c), replays its crash inputs (tests/fixtures/crashes/).
REPLAY_BINS	:= $(patsubst tests/fuzz/%.c,$(BUILD)/tests/replay_%,$(wildcard tests/fuzz/fuzz_*.c))
PROMTOOL	:= build/tools/promtool
# pairctl, the CLI (cli/): a client of the public API only, over libcurl; it
# links none of the daemon's objects. Its unit tests are tests/unit/test_cli_*.c.
PAIRCTL		:= $(BUILD)/pairctl
# Installed by `make install` with pairctl (dist/pairctl.1 goes with the section 1 pages).
PAIRCTL_COMPLETION := dist/pairctl.bash-completion
CLI_PKGS	:= libcurl jansson
CLI_SRCS	:= $(wildcard cli/*.c)
CLI_LIB_OBJS	:= $(patsubst %.c,$(BUILD)/%.o,$(filter-out cli/pairctl.c,$(CLI_SRCS)))
TIDY_SRCS	:= paird.c $(SERVICE_SRCS) $(API_SRCS) $(CLI_SRCS)
# What .clang-format keeps: every C source and header of the program, its tools and tests.
FORMAT_SRCS	:= paird.c $(wildcard service/*.[ch] api/*.[ch] cli/*.[ch] tools/*.c tests/unit/*.[ch] \
		   tests/fakes/*.[ch] tests/fuzz/*.c tests/bench/*.c)

all: $(BUILD)/paird $(PAIRCTL)

$(BUILD)/paird: $(BUILD)/paird.o $(LIB_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(SAN) -o $@ $^ $(LDLIBS)

$(PAIRCTL): $(BUILD)/cli/pairctl.o $(CLI_LIB_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(SAN) -o $@ $^ $(shell pkg-config --libs $(CLI_PKGS) 2>/dev/null)

$(BUILD)/cli/%.o: cli/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) $(shell pkg-config --cflags $(CLI_PKGS) 2>/dev/null) -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 $(WARN) -O1 -o $@ $<

$(BUILD)/gen/assets.c: $(BUILD)/tools/embed $(ASSETS)
	@mkdir -p $(dir $@)
	@echo "  EMBED   $(ASSETS)"
	$(Q)$(BUILD)/tools/embed $@ $(foreach a,$(ASSETS),/$(notdir $(a))=$(a))

$(BUILD)/gen/assets.o: $(BUILD)/gen/assets.c
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -Iapi -c -o $@ $<

# --- tests ---

$(BUILD)/tests/test_%: $(BUILD)/tests/unit/test_%.o $(TEST_OBJS) $(LIB_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(SAN) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs cmocka)

# The CLI's unit tests link the CLI's modules, not the daemon's.
$(BUILD)/tests/test_cli_%: $(BUILD)/tests/unit/test_cli_%.o $(CLI_LIB_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(SAN) -o $@ $^ $(shell pkg-config --libs $(CLI_PKGS) cmocka 2>/dev/null)

$(BUILD)/tests/replay_%: $(BUILD)/tests/fuzz/%.o $(BUILD)/tests/fuzz/replay.o \
			 $(FAKE_OBJS) $(LIB_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(SAN) -o $@ $^ $(LDLIBS)

unit: $(UNIT_BINS) $(REPLAY_BINS)
	@set -e; for t in $(UNIT_BINS); do \
		echo "== unit: $$t"; $$t; done; \
	fail=; for r in $(REPLAY_BINS); do n=$${r##*/replay_}; \
		echo "== crashes: $$n"; $$r tests/fixtures/crashes/$$n || fail="$$fail $$n"; \
	done; [ -z "$$fail" ] || { echo "unit: crash inputs fail again:$$fail"; exit 1; }

integration: $(BUILD)/paird $(PAIRCTL) $(BUILD)/tests/memio_bench $(PROMTOOL) tests/browser/node_modules
	$(Q)PAIRD=$(CURDIR)/$(BUILD)/paird PAIRCTL=$(CURDIR)/$(PAIRCTL) \
		EXCHANGES=$(CURDIR)/$(BUILD)/exchanges \
		MEMIO_BENCH=$(CURDIR)/$(BUILD)/tests/memio_bench \
		PATH="$(CURDIR)/build/tools:$$PATH" tests/integration/run.sh

contract: tests/contract/node_modules
	$(Q)node tests/contract/validate.mjs openapi.yaml $(BUILD)/exchanges

contract-selftest: tests/contract/node_modules
	$(Q)node tests/contract/selftest.mjs openapi.yaml

# promtool (for `promtool check metrics`) comes from Debian's prometheus
# package, unpacked rather than installed so no Prometheus server is set up.
$(PROMTOOL):
	@mkdir -p build/tools
	$(Q)if command -v promtool >/dev/null; then ln -sf "$$(command -v promtool)" $@; else \
		cd build/tools && rm -rf pkg prometheus_*.deb && \
		{ apt-get download -q prometheus || { apt-get update -qq && apt-get download -q prometheus; }; } && \
		dpkg-deb -x prometheus_*.deb pkg && cp pkg/usr/bin/promtool promtool && \
		rm -rf pkg prometheus_*.deb; fi

tests/contract/node_modules: tests/contract/package-lock.json
	$(Q)cd tests/contract && npm ci --no-audit --no-fund --loglevel=error
	$(Q)touch $@

# playwright-core only (no browser download): test_browser.sh drives
# Debian's /usr/bin/chromium (TEST_DEPS).
tests/browser/node_modules: tests/browser/package-lock.json
	$(Q)cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	$(Q)touch $@

# libFuzzer targets (tests/fuzz/fuzz_*.c), built with clang over the whole
# library; `make fuzz` runs each for FUZZ_SECONDS, seeded by
# `tests/fuzz/seeds.sh NAME DIR` (fixture frames as binary files, JSON bodies,
# requests, state files, and every past crash input). A find fails the build:
# the report is shown, the input is kept under build/fuzz/artifacts-NAME/
# (never the checkout), and becomes a fixture (tests/fixtures/crashes/).
FUZZ_CC		:= clang-14
FUZZ_SECONDS	?= 20
FUZZ_SRCS	:= $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS	:= $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

# The headers too: a fuzzer built from stale code would pass for the wrong reason.
$(BUILD)/fuzz/%: tests/fuzz/%.c $(SERVICE_SRCS) $(API_SRCS) $(BUILD)/gen/assets.c \
		 tests/fakes/portio_mem.c $(wildcard service/*.h api/*.h tests/unit/*.h tests/fakes/*.h)
	@mkdir -p $(dir $@)
	@echo "  FUZZ-LD $@"
	$(Q)$(FUZZ_CC) -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -Iapi $(shell pkg-config --cflags $(PKGS)) -o $@ \
		$< $(SERVICE_SRCS) tests/fakes/portio_mem.c $(API_SRCS) $(BUILD)/gen/assets.c $(LDLIBS)

fuzz: $(FUZZ_BINS)
	@set -e; for f in $(FUZZ_BINS); do \
		name=$$(basename $$f); corpus=$(BUILD)/fuzz/corpus-$$name; mkdir -p $$corpus; \
		seeds=$(BUILD)/fuzz/seeds-$$name; rm -rf $$seeds; mkdir -p $$seeds; \
		tests/fuzz/seeds.sh $$name $$seeds; \
		art=$(BUILD)/fuzz/artifacts-$$name; mkdir -p $$art; log=$(BUILD)/fuzz/$$name.log; \
		echo "== fuzz: $$name for $(FUZZ_SECONDS)s"; \
		if $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$$art/ $$corpus $$seeds >$$log 2>&1; then \
			tail -n 4 $$log; \
		else \
			tail -n 80 $$log; \
			echo "make fuzz: $$name FAILED (whole log: $$log; input: $$art/)"; \
			echo "fix it and keep the input as a fixture: tests/fixtures/crashes/README.md"; \
			exit 1; \
		fi; done

# The suites in order; the contract step checks what integration recorded.
test-run:
	$(Q)rm -rf $(BUILD)/exchanges
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory integration
	$(Q)$(MAKE) --no-print-directory contract contract-selftest

# `make test` also runs the unit tests under ASan+UBSan and the fuzzers briefly.
unit-asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" unit

# The multi-queue test (real worker threads changing under the main thread)
# under ThreadSanitizer: a data race the queue locking rule missed fails it.
unit-tsan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/tsan OPT="-O1 -g" SAN="-fsanitize=thread" \
		build/tsan/tests/test_mq
	$(Q)TSAN_OPTIONS="halt_on_error=1 exitcode=66" build/tsan/tests/test_mq

test: deps test-deps
	$(Q)$(MAKE) --no-print-directory format-check
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory test-run
	$(Q)$(MAKE) --no-print-directory unit-asan
	$(Q)$(MAKE) --no-print-directory unit-tsan
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	@echo "make test: every suite passed"

TEST_FUZZ_SECONDS ?= 15

asan: deps test-deps
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" all test-run

# Benchmarks (tests/bench/run.sh): every case measured side by side with the
# bare-read limit and Twisted Pair in one run, callgrind's instructions per
# frame beside, the API under wrk, memory per item, strace -c of a drain;
# results in build/bench. Needs root. BENCH_QUICK=1: a smoke run.
BENCH_DEPS	:= tcpdump wrk strace valgrind python3-twisted ethtool iputils-ping

bench: deps all $(BUILD)/tests/memio_bench
	$(call install_missing,$(BENCH_DEPS))
	$(Q)MEMIO_BENCH=$(CURDIR)/$(BUILD)/tests/memio_bench tests/bench/run.sh

# The memory I/O harness (callgrind's instructions per frame, tests/bench/callgrind.sh).
$(BUILD)/tests/memio_bench: $(BUILD)/tests/bench/memio_bench.o $(FAKE_OBJS) $(LIB_OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(SAN) -o $@ $^ $(LDLIBS)

run: deps all
	$(Q)exec $(BUILD)/paird --listen 127.0.0.1:8080 $(ARGS)

# --- install ---

# paird in sbin (a daemon), its unit where systemd looks for local units
# ($(PREFIX)/lib/systemd/system), its man page; with PAIRCTL set (the
# pairctl binary's path, defined next to its build rule) also pairctl, the
# section 1 pages in dist/ and PAIRCTL_COMPLETION (a bash completion file).
PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
BINDIR		?= $(PREFIX)/bin
UNITDIR		?= $(PREFIX)/lib/systemd/system
MANDIR		?= $(PREFIX)/share/man
COMPLETIONDIR	?= $(PREFIX)/share/bash-completion/completions
INSTALLED	:= $(SBINDIR)/paird $(UNITDIR)/paird.service $(MANDIR)/man8/paird.8 \
		   $(if $(PAIRCTL),$(BINDIR)/pairctl $(patsubst dist/%,$(MANDIR)/man1/%,$(wildcard dist/*.1)) \
		   $(if $(PAIRCTL_COMPLETION),$(COMPLETIONDIR)/pairctl))

install: all $(PAIRCTL)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(BUILD)/paird $(DESTDIR)$(SBINDIR)/paird
	sed 's|@SBINDIR@|$(SBINDIR)|g' dist/paird.service >$(DESTDIR)$(UNITDIR)/paird.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/paird.service
	install -m 0644 dist/paird.8 $(DESTDIR)$(MANDIR)/man8/paird.8
ifneq ($(PAIRCTL),)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(PAIRCTL) $(DESTDIR)$(BINDIR)/pairctl
	$(if $(wildcard dist/*.1),install -m 0644 $(wildcard dist/*.1) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(PAIRCTL_COMPLETION),install -D -m 0644 $(PAIRCTL_COMPLETION) \
		$(DESTDIR)$(COMPLETIONDIR)/pairctl)
endif

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))

# What install puts in place (tests/integration/test_ops.sh compares).
install-list:
	@echo $(INSTALLED)

# --- dependencies (Debian 12) ---

BUILD_DEPS	:= gcc make pkg-config libc6-dev libmicrohttpd-dev libjansson-dev libevent-dev \
		   libmnl-dev libpcap-dev libcmocka-dev libcurl4-openssl-dev
TEST_DEPS	:= iproute2 util-linux procps curl jq iputils-ping tshark python3-scapy ansible-core \
		   clang-14 libclang-rt-14-dev clang-format chromium systemd man-db python3 valgrind \
		   python3-twisted wrk strace
CHECK_DEPS	:= clang-format cppcheck clang-tidy

define install_missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | \
		grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "missing packages: $$missing"; \
			echo "run as root: apt-get install -y $$missing"; exit 1; fi; \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install_missing,$(BUILD_DEPS))

test-deps:
	$(call install_missing,$(TEST_DEPS))
	@command -v node >/dev/null && command -v npm >/dev/null || { \
		[ "$$(id -u)" = 0 ] || { echo "node and npm are missing"; exit 1; }; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }

# --- maintenance ---

# Static analysis. A finding is fixed, or suppressed where it is with a
# one-line reason (cppcheck: // cppcheck-suppress ID; clang-tidy: // NOLINT(check)).
check: format-check
	$(call install_missing,$(CHECK_DEPS))
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--suppress=missingIncludeSystem --inline-suppr -D_GNU_SOURCE \
		paird.c service api cli tools tests/fakes
	@# One file per run: clang-tidy 14 given several files carries the analyzer's
	@# va_list state from one to the next and reports every later vsnprintf.
	$(Q)fail=; for f in $(TIDY_SRCS); do \
		clang-tidy -quiet --warnings-as-errors='*' $$f -- $(CFLAGS) \
			-Wno-unknown-warning-option 2>/dev/null || fail="$$fail $$f"; \
	done; [ -z "$$fail" ] || { echo "make check: clang-tidy findings in:$$fail"; exit 1; }

format:
	clang-format -i $(FORMAT_SRCS)

# Cheap (a second or two): run first by `make test` and `make check`.
format-check:
	@echo "  FORMAT  clang-format --dry-run -Werror"
	$(Q)clang-format --dry-run -Werror $(FORMAT_SRCS) || { \
		echo "format-check: the sources above are not as .clang-format has them; run: make format"; \
		exit 1; }

clean:
	rm -rf build

.PHONY: install uninstall install-list bench all unit unit-asan unit-tsan integration contract contract-selftest fuzz test-run test asan run deps test-deps check format format-check clean

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
