# Soma — build, test, benchmark.
#
#   make            libsoma.a, libsoma.so and the `soma` CLI (build/rel/)
#   make demo       install missing packages, fetch MNIST, train 784-100-10 for one epoch
#   make check      unit tests, plain and under AddressSanitizer + UBSan
#   make bench-ref  Soma's benchmarks beside the PyTorch reference, with ratios
#   make web        build/rel/soma-movies, the movie recommender web site (`make serve` runs it)
#   make e2e        browser test of the site (Chromium + playwright-core), screenshots in out/e2e
#   make install PREFIX=/usr/local
#
# Knobs: DEBUG=1 (-O0 -g, asserts), NATIVE=1 (-march=native), NO_OMP=1, WERROR=1.

PREFIX ?= /usr/local
CC ?= cc
BUILD ?= build/rel

BLAS_CFLAGS := $(shell pkg-config --cflags openblas 2>/dev/null)
BLAS_LIBS := $(shell pkg-config --libs openblas 2>/dev/null || echo -lopenblas)

CFLAGS_BASE := -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wpedantic -Wshadow \
               -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter -Wno-psabi \
               -Iinclude -Isrc $(BLAS_CFLAGS) -fPIC
ifeq ($(DEBUG),1)
  OPT := -O0 -g -DSOMA_DEBUG
else
  OPT := -O3 -g -fno-math-errno
endif
ifeq ($(NATIVE),1)
  OPT += -march=native
endif
ifneq ($(NO_OMP),1)
  OMP := -fopenmp
endif
ifeq ($(WERROR),1)
  CFLAGS_BASE += -Werror
endif
SAN ?=
CFLAGS := $(CFLAGS_BASE) $(OPT) $(OMP) $(SAN) $(EXTRA_CFLAGS)
LDLIBS := $(BLAS_LIBS) -lz -lm
LDFLAGS := $(OMP) $(SAN)

LIB_SRC := $(sort $(wildcard src/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_SRC := $(sort $(wildcard cli/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all lib cli tests check check-plain check-asan demo deps data bench bench-ref install clean \
        web web-probe check-web serve e2e bench-web

all: lib cli

lib: $(BUILD)/libsoma.a $(BUILD)/libsoma.so
cli: $(BUILD)/soma
tests: $(TEST_BIN)

$(BUILD)/%.o: %.c $(wildcard include/soma/*.h include/*.h src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libsoma.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libsoma.so: $(LIB_OBJ)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/soma: $(CLI_OBJ) $(BUILD)/libsoma.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libsoma.a $(LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/test.h $(BUILD)/libsoma.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(BUILD)/libsoma.a $(LDFLAGS) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libsoma.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libsoma.a $(LDFLAGS) $(LDLIBS)

# ---- set-up -----------------------------------------------------------------------------
deps:
	@scripts/deps.sh

data: deps
	@scripts/fetch_mnist.sh
	@scripts/fetch_fashion_mnist.sh

# ---- the main job -------------------------------------------------------------------------
demo: data
	@$(MAKE) --no-print-directory all
	$(BUILD)/soma train --data mnist --net 784-100-10 --neuron lif -T 20 --epochs 1 \
	    --batch 128 --optim adamw --lr 2e-3 --weight-decay 0.5 --loss mse --seed 1

# ---- tests ----------------------------------------------------------------------------------
# check-plain runs every tests/test_* binary and tests/cli_test.sh; check-asan runs the same
# binaries rebuilt with -fsanitize=address,undefined in build/asan.
check: data
	@$(MAKE) --no-print-directory check-plain
	@$(MAKE) --no-print-directory check-asan
	@echo "make check: all suites passed"

check-plain: tests cli
	@scripts/run_tests.sh $(BUILD)
	@$(MAKE) --no-print-directory check-web

check-asan:
	@$(MAKE) --no-print-directory BUILD=build/asan DEBUG=1 \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    tests cli check-web
	@ASAN_OPTIONS=detect_leaks=1 SOMA_SANITIZED=1 scripts/run_tests.sh build/asan

# ---- the movie web service (web/) ---------------------------------------------------------
# soma-movies links libsoma.a with libmicrohttpd, SQLite, libsodium, jansson, libpng, libjpeg
# (Debian's -dev packages, installed by scripts/deps.sh). check-web runs the API tests (the
# router called directly, plus a few over a real socket); e2e drives the site in Chromium.
WEB_PKGS := libmicrohttpd sqlite3 libsodium jansson libpng libjpeg
WEB_CFLAGS := $(shell pkg-config --cflags $(WEB_PKGS) 2>/dev/null)
WEB_LIBS := $(shell pkg-config --libs $(WEB_PKGS) 2>/dev/null || echo -lmicrohttpd -lsqlite3 -lsodium -ljansson -lpng -ljpeg) -lpthread
WEB_SRC := $(sort $(wildcard web/*.c web/handlers/*.c))
WEB_OBJ := $(filter-out $(BUILD)/web/main.o,$(WEB_SRC:%.c=$(BUILD)/%.o))
WEB_TEST_SRC := $(sort $(wildcard tests/web/test_*.c))
WEB_TEST_BIN := $(WEB_TEST_SRC:tests/web/%.c=$(BUILD)/tests/web/%)

web: $(BUILD)/soma-movies

web-probe:
	@for p in $(WEB_PKGS); do \
	    if pkg-config --exists $$p; then echo "  ✓ $$p $$(pkg-config --modversion $$p)"; \
	    else echo "  ✗ $$p (scripts/deps.sh installs it)"; fi; done

$(BUILD)/web/%.o: web/%.c $(wildcard web/*.h web/handlers/*.h include/soma/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WEB_CFLAGS) -c $< -o $@

$(BUILD)/soma-movies: $(WEB_OBJ) $(BUILD)/web/main.o $(BUILD)/libsoma.a
	$(CC) $(LDFLAGS) -o $@ $(WEB_OBJ) $(BUILD)/web/main.o $(BUILD)/libsoma.a $(WEB_LIBS) $(LDLIBS)

$(BUILD)/tests/web/%: tests/web/%.c tests/test.h tests/web/web_test.h $(WEB_OBJ) $(BUILD)/libsoma.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(WEB_CFLAGS) -Itests -Iweb -o $@ $< $(WEB_OBJ) $(BUILD)/libsoma.a \
	    $(LDFLAGS) $(WEB_LIBS) $(LDLIBS)

check-web: $(WEB_TEST_BIN) $(BUILD)/soma-movies
	@SOMA_MOVIES_BIN=$(BUILD)/soma-movies scripts/run_web_tests.sh $(BUILD)

# The one command that starts the site (MovieLens-100k from ../shared/data, or DATA=dir).
DATA ?= ../shared/data/ml-100k
serve: deps
	@$(MAKE) --no-print-directory web
	$(BUILD)/soma-movies --data $(DATA) $(SERVE_FLAGS)

e2e: web
	@bash tests/web/e2e.sh $(BUILD)

bench-web: web
	@bash bench/web_load.sh $(BUILD)

# ---- benchmarks --------------------------------------------------------------------------
bench: all $(BENCH_BIN)

bench-ref: data all
	@scripts/bench_ref.sh

# ---- install -------------------------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/soma \
	    $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(BUILD)/libsoma.a $(BUILD)/libsoma.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/soma.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/soma/*.h $(DESTDIR)$(PREFIX)/include/soma/
	install -m 755 $(BUILD)/soma $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(shell sed -n 's/.*SOMA_VERSION_STRING "\(.*\)"/\1/p' include/soma/core.h)|' \
	    -e 's|@LIBS@|$(BLAS_LIBS) -lz -lm -fopenmp|' soma.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/soma.pc

clean:
	rm -rf build
