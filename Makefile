# Bouncy Sink — build, test, run.
#
# Layout (discovered, so a new tool or test needs no edit here):
#   src/lib/*.c            shared library            -> build/<v>/libbs.a
#   src/global/*.c         mail-specific shared floor -> build/<v>/libglobal.a (uses src/lib,
#                          never the reverse; e.g. the table of every setting)
#   src/<tool>/*.c         one executable per folder -> bin/<tool>   (main.c holds main())
#                          the tool's other objects  -> build/<v>/<tool>.a (tests and fuzzers link it)
#   tests/unit/<tool>/*.c  C unit tests (TAP)        -> build/<v>/tests/<tool>/<name>
#   fuzz/<tool>/*.c        libFuzzer targets         -> build/fuzz/<tool>/<name>
#   tests/<area>/*.t       script tests (TAP), run by tests/run.sh
#
# Variants: `make` builds into bin/; `make VARIANT=asan` builds with ASan/UBSan into
# build/asan/bin/ (used by `make test-asan`).

VARIANT ?= release
SHELL := /bin/bash

PKGS := jansson inih libcurl libmicrohttpd libevent libevent_openssl libevent_pthreads \
        openssl gmime-3.0 libxml-2.0 opendkim libcares sqlite3
PKG_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags $(PKGS) 2>/dev/null))
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
        -Wno-format-nonliteral -Werror
CSTD := -std=gnu11 -D_GNU_SOURCE
LDLIBS := -Wl,--as-needed $(PKG_LIBS) -lspf2 -lopendmarc -lresolv -lpthread -lm

ifeq ($(VARIANT),asan)
CC := clang
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDOPT := -fsanitize=address,undefined
BINDIR := build/asan/bin
else
CC ?= cc
OPT := -O2 -g
LDOPT :=
BINDIR := bin
endif

CFLAGS := $(CSTD) $(OPT) $(WARN) -Isrc/lib -Isrc/global -MMD -MP $(PKG_CFLAGS) $(EXTRA_CFLAGS)

# Where `make install` puts the programs and the shipped data. The data directory is
# compiled in as the last resort; an installed program finds PREFIX/share/bouncy-sink/data
# next to its bin/ whatever PREFIX it went to, a program of this tree finds data/reference
# (params_data_dir() in src/global/params.c; BS_DATA_DIR in the environment overrides).
PREFIX ?= /usr/local
DATADIR ?= $(PREFIX)/share/bouncy-sink/data
PATH_DEFS := -DBS_DATADIR='"$(DATADIR)"' -DBS_SOURCE_DIR='"$(CURDIR)"'
# The release every program's --version prints.
VERSION := 0.4
B := build/$(VARIANT)
$(B)/obj/global/params.o: CFLAGS += $(PATH_DEFS)
$(B)/obj/lib/util.o: CFLAGS += -DBS_VERSION='"$(VERSION)"'

TOOLS := $(sort $(filter-out lib global,$(notdir $(patsubst %/,%,$(dir $(wildcard src/*/main.c))))))
LIB_SRCS := $(wildcard src/lib/*.c)
LIB_OBJS := $(patsubst src/%.c,$(B)/obj/%.o,$(LIB_SRCS))
GLOBAL_SRCS := $(wildcard src/global/*.c)
GLOBAL_OBJS := $(patsubst src/%.c,$(B)/obj/%.o,$(GLOBAL_SRCS))
BINS := $(addprefix $(BINDIR)/,$(TOOLS))

UNIT_SRCS := $(wildcard tests/unit/*/*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))

FUZZ_SRCS := $(wildcard fuzz/*/*.c)
FUZZ_BINS := $(patsubst fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))

.PHONY: all deps test test-asan unit fuzz fuzz-build soak bench run demo clean install install-systemd uninstall shellcheck valgrind format format-check
.DEFAULT_GOAL := all

all: $(BINS)

# V=1 shows the full commands.
Q := $(if $(V),,@)
$(B)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),:,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(B)/libbs.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/libglobal.a: $(GLOBAL_OBJS)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

# Per-tool archive of everything but main.o, so tests and fuzzers link the real code.
define TOOL_RULES
$(B)/$(1).a: $$(patsubst src/%.c,$(B)/obj/%.o,$$(filter-out src/$(1)/main.c,$$(wildcard src/$(1)/*.c)))
	@mkdir -p $$(dir $$@)
	$(Q)rm -f $$@ && ar rcs $$@ $$^
$(BINDIR)/$(1): $(B)/obj/$(1)/main.o $(B)/$(1).a $(B)/libglobal.a $(B)/libbs.a
	@mkdir -p $$(dir $$@)
	@$(if $(V),:,echo "  LINK    $$@")
	$(Q)$(CC) $(OPT) $(LDOPT) -o $$@ $$^ $(LDLIBS)
endef
$(foreach t,$(TOOLS),$(eval $(call TOOL_RULES,$(t))))

# Unit test: tests/unit/<tool>/<name>.c links <tool>.a (except for "lib" and "global"),
# libglobal.a and libbs.a.
$(B)/tests/%: tests/unit/%.c $(B)/libbs.a $(B)/libglobal.a $(foreach t,$(TOOLS),$(B)/$(t).a)
	@mkdir -p $(dir $@)
	@$(if $(V),:,echo "  TEST    $@")
	$(Q)$(CC) $(CFLAGS) -Itests/unit -Isrc/$(firstword $(subst /, ,$*)) $(LDOPT) -o $@ $< \
	  $(if $(filter lib global,$(firstword $(subst /, ,$*))),,$(B)/$(firstword $(subst /, ,$*)).a) \
	  $(B)/libglobal.a $(B)/libbs.a $(LDLIBS)

unit: $(UNIT_BINS)

deps:
	@bash tools/deps.sh

# With CI=true (set by CI services) the sanitizer suite runs too, after the plain one.
test: deps
	$(MAKE) all unit fuzz-build
	@bash tests/run.sh
	$(if $(filter true,$(CI)),$(MAKE) test-asan)

# The whole suite under ASan/UBSan (LeakSanitizer on).
test-asan: deps
	$(MAKE) VARIANT=asan all unit fuzz-build
	@BS_BIN=$(CURDIR)/build/asan/bin BS_UNIT=$(CURDIR)/build/asan/tests \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  bash tests/run.sh

# The compiled unit tests under valgrind (memcheck; definite leaks are errors).
valgrind: deps
	$(MAKE) all unit
	@BS_UNIT_WRAP="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	  bash tests/run.sh build/release/tests

# libFuzzer targets: fuzz/<tool>/<name>.c is linked with the tool's sources and both
# libraries, compiled once for every target (build/fuzzobj, with the fuzzer's coverage
# instrumentation and the sanitizers) rather than once per target.
FUZZCOMMON := $(CSTD) -O1 -g -Isrc/lib -Isrc/global $(PKG_CFLAGS) $(PATH_DEFS) -DBS_FUZZING \
              -Wall -Wextra -Werror -Wno-unused-parameter
FUZZFLAGS := -fsanitize=fuzzer,address,undefined $(FUZZCOMMON)
FUZZOBJFLAGS := -fsanitize=fuzzer-no-link,address,undefined $(FUZZCOMMON) -MMD -MP
build/fuzzobj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),:,echo "  FUZZCC  $<")
	$(Q)clang $(FUZZOBJFLAGS) -c -o $@ $<
# fuzz_objs TOOL: the objects a target of fuzz/TOOL/ links (lib and global: the libraries only)
fuzz_objs = $(patsubst src/%.c,build/fuzzobj/%.o,$(LIB_SRCS) $(GLOBAL_SRCS) \
  $(if $(filter lib global,$(1)),,$(filter-out %/main.c,$(wildcard src/$(1)/*.c))))
define FUZZ_RULE
build/fuzz/$(1): fuzz/$(1).c $(call fuzz_objs,$(firstword $(subst /, ,$(1))))
	@mkdir -p $$(dir $$@)
	@$$(if $$(V),:,echo "  FUZZ    $$@")
	$$(Q)clang $$(FUZZFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach f,$(patsubst fuzz/%.c,%,$(FUZZ_SRCS)),$(eval $(call FUZZ_RULE,$(f))))

fuzz-build: $(FUZZ_BINS)

FUZZ_SECONDS ?= 60
fuzz: deps fuzz-build
	@bash tools/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

# A long run of the live sink (not part of `make test`): SOAK_MESSAGES messages,
# RSS and open descriptors of every stage sampled; see tests/soak.sh.
SOAK_MESSAGES ?= 1000000
soak: deps
	$(MAKE) all
	@bash tests/soak.sh $(SOAK_MESSAGES)

bench: deps
	$(MAKE) all
	@bash bench/run.sh

run: deps
	$(MAKE) all
	@bash pipelines/run.sh

demo: deps
	$(MAKE) all
	@bash pipelines/demo.sh

# Every shell file. In the tests only warnings and errors count, and SC2010 (ls | grep over
# the test's own files) and SC2217 (bg taken for the job-control builtin; it is tests/lib.sh's
# function) are off. tests/lib/90-shellcheck.t runs this in every `make test`.
SHELL_FILES := pipelines/*.sh tools/*.sh bench/*.sh tests/run.sh tests/lib.sh tests/netns.sh tests/sink-lib.sh tests/soak.sh \
               tests/*/common.sh tests/ingest/5x-dns-ns.sh tests/ingest/memcap.sh
# Every C file as .clang-format says: `make format` rewrites them, `make format-check` (run by
# tests/lib/91-format.t in `make test`) fails on any difference.
C_FILES = $(sort $(wildcard src/*/*.c src/*/*.h tests/unit/*.h tests/unit/*/*.c tests/unit/*/*.h fuzz/*/*.c bench/*.c))
format:
	clang-format -i $(C_FILES)

format-check:
	clang-format --dry-run --Werror $(C_FILES)

shellcheck:
	shellcheck -x $(SHELL_FILES)
	shellcheck -x -S warning -e SC2010,SC2217 tests/*/*.t

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7 \
	  $(DESTDIR)$(PREFIX)/share/bouncy-sink/pipelines $(DESTDIR)$(PREFIX)/share/bouncy-sink/etc \
	  $(DESTDIR)$(DATADIR)
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(wildcard man/*.5) $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 $(wildcard man/*.7) $(DESTDIR)$(PREFIX)/share/man/man7/
	install -m 755 pipelines/*.sh $(DESTDIR)$(PREFIX)/share/bouncy-sink/pipelines/
	install -m 644 data/reference/inband-replies.dat data/reference/user-agents.csv $(DESTDIR)$(DATADIR)/
	install -m 644 etc/bouncy-sink.ini etc/bouncy-sink.production.ini $(DESTDIR)$(PREFIX)/share/bouncy-sink/etc/
	install -d $(DESTDIR)$(DATADIR)/personas
	install -m 644 data/personas/*.persona $(DESTDIR)$(DATADIR)/personas/

# The systemd unit, the production configuration (never over an existing one), a system
# user and the state and log directories (as root on the target machine; with DESTDIR the
# user is not created and the directories are not given to it).
install-systemd: install
	install -d $(DESTDIR)/etc/systemd/system $(DESTDIR)/etc/bouncy-sink
	sed 's|@PREFIX@|$(PREFIX)|g' etc/systemd/bouncy-sink.service \
	  > $(DESTDIR)/etc/systemd/system/bouncy-sink.service
	[ -n "$(DESTDIR)" ] || id bouncy-sink >/dev/null 2>&1 || \
	  useradd --system --home-dir /var/lib/bouncy-sink --shell /usr/sbin/nologin bouncy-sink
	install -d -m 750 $(if $(DESTDIR),,-o bouncy-sink -g bouncy-sink) \
	  $(DESTDIR)/var/lib/bouncy-sink $(DESTDIR)/var/log/bouncy-sink
	[ -e $(DESTDIR)/etc/bouncy-sink/bouncy-sink.ini ] || \
	  install -m 644 etc/bouncy-sink.production.ini $(DESTDIR)/etc/bouncy-sink/bouncy-sink.ini

# Removes what install and install-systemd put in place; the configuration, the spool,
# the counters, the logs and the user stay (remove /etc/bouncy-sink, /var/lib/bouncy-sink,
# /var/log/bouncy-sink and the user by hand; bouncy-sink(7) "Uninstalling").
uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(TOOLS))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man1/,$(notdir $(wildcard man/*.1)))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man5/,$(notdir $(wildcard man/*.5)))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man7/,$(notdir $(wildcard man/*.7)))
	rm -rf $(DESTDIR)$(PREFIX)/share/bouncy-sink
	rm -f $(DESTDIR)/etc/systemd/system/bouncy-sink.service

clean:
	rm -rf build $(addprefix bin/,$(TOOLS))

-include $(shell find build -name '*.d' 2>/dev/null)
