# Makefile - the only build system of privarion-vm: deps, build, test, bench, run.
# Sources are found by wildcard: a new engine/, db/, cli/ or tui/ file, or a
# tests/unit/test_*.c (test_mt_*.c also run under ThreadSanitizer), needs no edit here.

PROG     := privarion-vm
CC       ?= cc
BUILD    := build
PKGS     := ncursesw libcjson sqlite3 libpng libcrypto
PREFIX   ?= /usr/local
# Shipped files (themes/, the guest builder) when installed; a checkout's binary
# finds them beside itself first (engine/share.c).
SHAREDIR ?= $(PREFIX)/share/$(PROG)
WARN     := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iengine -DPVM_SHARE_DIR='"$(SHAREDIR)"'
OPT      ?= -O2 -g
# Recursive (=) so pkg-config runs after `deps` has installed what it needs.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
CMOCKA     = $(shell pkg-config --libs cmocka 2>/dev/null)
# `make V=1` shows the full compiler command lines.
Q        := $(if $(V),,@)
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

BUILD_DEBS := gcc make pkg-config libncurses-dev libcjson-dev libsqlite3-dev libcmocka-dev libpng-dev libssl-dev
# ovmf: UEFI firmware (--firmware uefi); swtpm: the TPM (--tpm)
RUN_DEBS   := qemu-system-x86 qemu-utils ovmf swtpm swtpm-tools
TEST_DEBS  := cpio gzip busybox-static util-linux tmux openssh-server openssh-client \
              $(ISO_DEBS) tesseract-ocr python3-pil
# tests/iso/build (the installer ISO of tests/integration/test_vm_iso): d-i's netboot kernel
# and initrds, isolinux (BIOS), GRUB EFI and mtools (UEFI), xorriso; tesseract-ocr reads the
# screen and python3-pil (Pillow) decodes it (test_vm_iso)
ISO_DEBS   := debian-installer-12-netboot-amd64 isolinux syslinux-common grub-efi-amd64-bin \
              grub-common mtools xorriso
DEBS       := $(BUILD_DEBS) $(RUN_DEBS) $(TEST_DEBS)

LIB_SRC  := $(sort $(wildcard engine/*.c engine/*/*.c db/*.c))
APP_SRC  := $(sort $(wildcard cli/*.c))
TUI_SRC  := $(sort $(wildcard tui/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
MT_SRC   := $(sort $(wildcard tests/unit/test_mt_*.c))
HDRS     := $(wildcard engine/*.h engine/*/*.h db/*.h cli/*.h tui/*.h tests/unit/*.h)

LIB_OBJ      := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
APP_OBJ      := $(APP_SRC:%.c=$(BUILD)/obj/%.o)
LIB_OBJ_ASAN := $(LIB_SRC:%.c=$(BUILD)/asan/%.o)
TUI_OBJ      := $(TUI_SRC:%.c=$(BUILD)/obj/%.o)
TUI_OBJ_ASAN := $(TUI_SRC:%.c=$(BUILD)/asan/%.o)
LIB_OBJ_TSAN := $(LIB_SRC:%.c=$(BUILD)/tsan/%.o)
# Engine and store go into archives so a test links only the objects it uses.
LIB_A        := $(BUILD)/libpvm.a
LIB_A_ASAN   := $(BUILD)/libpvm-asan.a
LIB_A_TSAN   := $(BUILD)/libpvm-tsan.a
# The TUI is an archive too, so its unit tests (layout, keymap) link only what they use.
TUI_A        := $(BUILD)/libpvmtui.a
TUI_A_ASAN   := $(BUILD)/libpvmtui-asan.a
UNIT_BIN     := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit/%)
UNIT_BIN_ASAN:= $(UNIT_SRC:tests/unit/%.c=$(BUILD)/unit-asan/%)
UNIT_BIN_TSAN:= $(MT_SRC:tests/unit/%.c=$(BUILD)/unit-tsan/%)
TSAN     := -fsanitize=thread -fno-omit-frame-pointer

.PHONY: fuzz unit-build all deps run test unit unit-asan e2e integration tui guest bench clean install help
.DEFAULT_GOAL := all

all: deps
	@$(MAKE) --no-print-directory $(PROG)

help:
	@echo "make            build ./$(PROG) (installs missing packages first)"
	@echo "make run        install, build and start $(PROG)"
	@echo "make test       every test: unit (plain, ASan+UBSan), end-to-end, integration"
	@echo "make bench      benchmarks (not tests): bench/run (engine), bench/tui (the TUI)"
	@echo "make fuzz       fuzz the parsers of outside data (FUZZ_SECONDS=60 each)"
	@echo "make deps       install missing Debian packages (root) or print the apt-get line"

# Installs what is missing when root; otherwise prints the exact command and stops.
deps:
	@missing=""; for p in $(DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "deps: installing$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q --no-install-recommends $$missing >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $$missing; } || exit 1; \
	  else \
	    echo "deps: missing packages; run as root:"; \
	    echo "  apt-get update && apt-get install -y --no-install-recommends$$missing"; exit 1; \
	  fi; \
	fi

$(PROG): $(APP_OBJ) $(TUI_A) $(LIB_A)
	@echo "  LINK  $@"
	$(Q)$(CC) $(OPT) -o $@ $(APP_OBJ) $(TUI_A) $(LIB_A) $(PKG_LIBS)

$(TUI_A): $(TUI_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(TUI_A_ASAN): $(TUI_OBJ_ASAN)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(LIB_A_TSAN): $(LIB_OBJ_TSAN)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(LIB_A_ASAN): $(LIB_OBJ_ASAN)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC    $<"
	$(Q)$(CC) $(WARN) $(OPT) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/asan/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC    $< (asan+ubsan)"
	$(Q)$(CC) $(WARN) -O1 -g $(SAN) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/tsan/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  CC    $< (tsan)"
	$(Q)$(CC) $(WARN) -O1 -g $(TSAN) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/unit/%: tests/unit/%.c $(TUI_A) $(LIB_A) $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  TEST  $@"
	$(Q)$(CC) $(WARN) $(OPT) $(PKG_CFLAGS) -o $@ $< $(TUI_A) $(LIB_A) $(PKG_LIBS) $(CMOCKA)

$(BUILD)/unit-asan/%: tests/unit/%.c $(TUI_A_ASAN) $(LIB_A_ASAN) $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  TEST  $@"
	$(Q)$(CC) $(WARN) -O1 -g $(SAN) $(PKG_CFLAGS) -o $@ $< $(TUI_A_ASAN) $(LIB_A_ASAN) $(PKG_LIBS) $(CMOCKA)

$(BUILD)/unit-tsan/%: tests/unit/%.c $(LIB_A_TSAN) $(HDRS)
	@mkdir -p $(dir $@)
	@echo "  TEST  $@ (tsan)"
	$(Q)$(CC) $(WARN) -O1 -g $(TSAN) $(PKG_CFLAGS) -o $@ $< $(LIB_A_TSAN) $(PKG_LIBS) $(CMOCKA)

unit-build: $(UNIT_BIN) $(UNIT_BIN_ASAN) $(UNIT_BIN_TSAN)

run: all
	./$(PROG)

# The whole suite; tests/run prints one line per suite and a closing summary.
test: deps
	@$(MAKE) --no-print-directory $(PROG) unit-build
	@tests/run all

unit: deps
	@$(MAKE) --no-print-directory unit-build
	@tests/run unit

e2e: all
	@tests/run e2e

integration: all
	@tests/run integration

tui: all
	@tests/run tui

guest:
	@tests/guest/build

# Coverage-guided fuzzing of the parsers that read outside data (clang's libFuzzer).
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
fuzz: deps
	@command -v clang >/dev/null || { echo "fuzz: needs clang (apt-get install clang)"; exit 1; }
	@mkdir -p $(BUILD)/fuzz
	@for f in $(FUZZ_SRC); do \
	  b=$(BUILD)/fuzz/$$(basename $$f .c); echo "  FUZZ  $$b ($(FUZZ_SECONDS) s)"; \
	  clang -std=c11 -D_GNU_SOURCE -Iengine -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(PKG_CFLAGS) \
	    -o $$b $$f $(LIB_SRC) $(PKG_LIBS) || exit 1; \
	  $$b -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ \
	    >$$b.log 2>&1 || { tail -40 $$b.log; echo "fuzz: $$b found a crash (see $$b.log)"; exit 1; }; \
	  grep -E 'stat::(number_of_executed_units|new_units_added)' $$b.log; \
	done

bench: all
	@bench/run
	@bench/tui

# The binary, the manual, and SHAREDIR's themes/ and guest/ (the guest builder and the
# files it packs), which an installed binary finds there (engine/share.c).
GUEST_FILES := $(filter-out tests/guest/README.md,$(wildcard tests/guest/*))
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -d $(DESTDIR)$(SHAREDIR)/themes $(DESTDIR)$(SHAREDIR)/guest
	install -m 0755 $(PROG) $(DESTDIR)$(PREFIX)/bin/$(PROG)
	install -m 0644 man/$(PROG).1 $(DESTDIR)$(PREFIX)/share/man/man1/$(PROG).1
	install -m 0644 themes/*.theme $(DESTDIR)$(SHAREDIR)/themes/
	install -m 0644 tests/guest/README.md $(DESTDIR)$(SHAREDIR)/guest/README.md
	for f in $(GUEST_FILES); do install -m $$( [ -x $$f ] && echo 0755 || echo 0644 ) $$f $(DESTDIR)$(SHAREDIR)/guest/; done

clean:
	rm -rf $(BUILD) $(PROG)
