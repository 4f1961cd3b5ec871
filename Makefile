# portolan — one non-recursive Makefile. `make V=1` shows full commands.

PKGS     := libgit2 yaml-0.1 libmicrohttpd libcurl libcmark lmdb jansson libsodium libdeflate
BUILD    := build
CC       ?= cc
WARN     := -std=c11 -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wwrite-strings -Wvla -fno-common -Werror
OPT      ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -DGIT_DEPRECATE_HARD \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS   += $(OPT) $(WARN) -MMD -MP
# Only libraries something calls get loaded: keeps start-up and RSS small.
LDFLAGS  += -Wl,--as-needed
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRC  := $(wildcard common/*.c store/*.c render/*.c)
BIN_SRC  := $(wildcard daemon/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
BENCH_SRC:= $(wildcard bench/*.c)

# site-templates/ is compiled in (render/assets.h); a changed file rebuilds it.
ASSETS   := $(sort $(filter-out site-templates/README.md,$(wildcard site-templates/*)))
ASSET_C  := $(BUILD)/gen/assets.c
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/assets.o
# The built-in widgets (widgets/<name>/) are compiled in the same way
# (daemon/widget_builtins.h).
WIDGETS  := $(sort $(wildcard widgets/*/widget.yml widgets/*/README.md))
WIDGET_C := $(BUILD)/gen/widgets.c
BIN_OBJ  := $(BIN_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/widgets.o
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.t)
BENCH_BIN:= $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
LIB      := $(BUILD)/libportolan.a
# daemon/ minus main(): unit tests may test daemon modules too
DLIB     := $(BUILD)/libportolan-daemon.a
DLIB_OBJ := $(filter-out $(BUILD)/daemon/main.o,$(BIN_OBJ))
BIN      := $(BUILD)/portolan

.PHONY: all deps run test unit integration asan bench format format-check clean

all: $(BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(ASSET_C): render/embed-assets.sh $(ASSETS) Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  EMBED   $@")
	$(Q)./render/embed-assets.sh $@ $(ASSETS)

$(BUILD)/gen/assets.o: $(ASSET_C)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) -I. $(filter-out -Wmissing-prototypes,$(CFLAGS)) -c -o $@ $<

$(WIDGET_C): daemon/embed-widgets.sh $(WIDGETS) Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  EMBED   $@")
	$(Q)./daemon/embed-widgets.sh $@ $(WIDGETS)

$(BUILD)/gen/widgets.o: $(WIDGET_C)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) -I. $(filter-out -Wmissing-prototypes,$(CFLAGS)) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(DLIB): $(DLIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(BIN_OBJ) $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $(BIN_OBJ) $(LIB) $(LDFLAGS) $(LDLIBS)

$(BUILD)/tests/unit/%.t: $(BUILD)/tests/unit/%.o $(DLIB) $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(DLIB) $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

# Installs only what is missing; safe to run again.
deps:
	@./tests/deps.sh

run: deps $(BIN)
	@./examples/run.sh

# Unit tests (cmocka, TAP) and integration tests (git-style shell, executable
# scripts), all in one prove run so there is one verdict.
INTEG := $(sort $(wildcard tests/integration/t[0-9]*.sh))
test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN) $(FUZZ_REPLAY)
	@CMOCKA_MESSAGE_OUTPUT=TAP PORTOLAN_BIN=$(CURDIR)/$(BIN) prove --exec '' $(PROVE_OPTS) $(UNIT_BIN) $(FUZZ_REPLAY) $(INTEG)

unit: $(UNIT_BIN)
	@CMOCKA_MESSAGE_OUTPUT=TAP prove -v --exec '' $(UNIT_BIN)

integration: $(BIN)
	@PORTOLAN_BIN=$(CURDIR)/$(BIN) prove --exec '' $(PROVE_OPTS) $(INTEG)

# Address + undefined sanitizers over the whole suite, in a separate tree.
asan:
	@$(MAKE) --no-print-directory test BUILD=build/asan \
		OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined"

bench: deps $(BIN) $(BENCH_BIN)
	@./bench/run.sh

FMT_SRC := $(wildcard common/*.[ch] store/*.[ch] render/*.[ch] daemon/*.[ch] tests/unit/*.[ch] bench/*.[ch])
format:
	clang-format -i $(FMT_SRC)
format-check:
	@clang-format --dry-run --Werror $(FMT_SRC) && echo "format ok"

clean:
	rm -rf $(BUILD)

# --- fuzzing (tests/fuzz/) ---------------------------------------------------
# Each tests/fuzz/fuzz_<t>.c is a libFuzzer target with its seed corpus in
# tests/fuzz/corpus/<t>/. `make test` replays every corpus with the normal
# toolchain (build/tests/fuzz/fuzz_<t>.t, TAP, run from the repository
# root); `make fuzz` builds the targets with clang's libFuzzer, ASan and
# UBSan into build/fuzz/ and runs each for FUZZ_SECONDS. New inputs go to
# build/fuzz/corpus/<t>/ and are merged into the checked-in corpus only with
# FUZZ_MERGE=1; crashes land in build/fuzz/crashes/<t>/.
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY  := $(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/fuzz_%.t)
FUZZ_BUILD   := build/fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_MERGE   ?= 0
FUZZ_OPTS    ?=
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
# Warnings stay on, but clang's set differs from gcc's: -Werror is gcc's job.
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) $(filter-out -Werror,$(WARN)) -MMD -MP
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(LIB_SRC) daemon/settings.c daemon/form.c)
FUZZ_LIB     := $(FUZZ_BUILD)/libportolan-fuzz.a
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/fuzz_%)

.PHONY: fuzz

$(FUZZ_REPLAY:%.t=%.o): $(BUILD)/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(FUZZ_TARGETS:%=$(BUILD)/tests/fuzz/replay_%.o): $(BUILD)/tests/fuzz/replay_%.o: tests/fuzz/replay.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -DCORPUS='"tests/fuzz/corpus/$*"' -c -o $@ $<

$(FUZZ_REPLAY): $(BUILD)/tests/fuzz/fuzz_%.t: $(BUILD)/tests/fuzz/fuzz_%.o \
		$(BUILD)/tests/fuzz/replay_%.o $(DLIB) $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $(filter %.o,$^) $(DLIB) $(LIB) $(LDFLAGS) $(LDLIBS)

$(FUZZ_LIB_OBJ) $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/tests/fuzz/fuzz_%.o): $(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CLANG   $<")
	$(Q)$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_BIN): $(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LDFLAGS) $(LDLIBS)

# A target's own dictionary (tests/fuzz/<t>.dict) is used when there is one.
fuzz: $(FUZZ_BIN)
	@fail=0; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/crashes/$$t; \
		log=$(FUZZ_BUILD)/fuzz_$$t.log; \
		dict=; test -f tests/fuzz/$$t.dict && dict=-dict=tests/fuzz/$$t.dict; \
		echo "  FUZZ    $$t ($(FUZZ_SECONDS) s, log in $$log)"; \
		if ! $(FUZZ_BUILD)/fuzz_$$t $$dict -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD)/crashes/$$t/ $(FUZZ_OPTS) \
			$(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t >$$log 2>&1; then \
			fail=1; grep -E 'ERROR:|SUMMARY:|check failed|runtime error|Test unit written' \
				$$log || tail -n 20 $$log; continue; fi; \
		grep -E '^#[0-9]+[[:space:]]+DONE' $$log | sed 's/^/          /'; \
		if [ "$(FUZZ_MERGE)" = 1 ]; then \
			$(FUZZ_BUILD)/fuzz_$$t -merge=1 $$dict tests/fuzz/corpus/$$t \
				$(FUZZ_BUILD)/corpus/$$t >>$$log 2>&1 || fail=1; \
			grep -E 'MERGE-OUTER: [0-9]+ new files' $$log | sed 's/^/          /'; \
		fi; \
	done; exit $$fail
# --- end fuzzing -------------------------------------------------------------

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
