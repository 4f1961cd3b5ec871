# portolan — one non-recursive Makefile. `make V=1` shows full commands.

PKGS     := libgit2 yaml-0.1 libmicrohttpd libcurl libcmark lmdb jansson libsodium
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

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
BIN_OBJ  := $(BIN_SRC:%.c=$(BUILD)/%.o)
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
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@CMOCKA_MESSAGE_OUTPUT=TAP PORTOLAN_BIN=$(CURDIR)/$(BIN) prove --exec '' $(PROVE_OPTS) $(UNIT_BIN) $(INTEG)

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

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
