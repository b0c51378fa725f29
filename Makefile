# patrond — see README.md. `make run` and `make test` do all set-up.
CC ?= cc
PKGS := libmicrohttpd libpq libcrypto jansson libcurl
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS_COMMON = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
                -Iinclude $(PKG_CFLAGS) -pthread
CFLAGS ?= -O2 -g
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

SRCS := $(shell find api -name '*.c' | sort)
# One object per source, and its header dependencies from the compiler
# (-MMD -MP): touching one file recompiles one object and relinks.
GEN_SRCS := build/migrations.c build/assets.c
OBJS := $(patsubst %.c,build/obj/%.o,$(SRCS) $(GEN_SRCS))
ASAN_OBJS := $(patsubst %.c,build/asan/obj/%.o,$(SRCS) $(GEN_SRCS))
DEPFLAGS = -MMD -MP
MIGRATIONS := $(sort $(wildcard migrations/*.sql))
SQL_CODE := $(sort $(wildcard sql/*.sql))
HDRS := $(wildcard include/*.h include/db/*.h include/*.def)
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
# the pure-logic modules the unit tests link against
UNIT_DEPS := api/core/csv.c api/core/csv_reader.c api/core/money.c api/core/encode.c api/core/crypto.c \
             api/core/rfc3339.c api/core/validate.c api/config.c api/http/router.c api/http/rate_limit.c \
             api/core/mail.c api/core/form.c api/core/json_text.c api/core/etag.c api/core/tally_cache.c \
             api/core/cidr.c api/core/errors.c api/core/domain.c api/db/sqlstate.c api/core/jwt.c \
             api/core/signing_keys.c api/core/webhook_sign.c api/core/outbound_target.c \
             api/core/i18n.c api/core/page_render.c build/assets.c api/core/http_client.c \
             $(sort $(wildcard api/providers/*.c))

# objects made by pattern rules are kept, not removed as intermediates
.SECONDARY:

.PHONY: fuzz fuzz-build all asan run test unit blackbox deps test-deps format clean bench valgrind soak

all: deps build/patrond

deps:
	@scripts/deps.sh

test-deps:
	@scripts/deps.sh --test

build/migrations.c: $(MIGRATIONS) $(SQL_CODE) tools/embed_migrations.c
	@mkdir -p build
	$(CC) -std=c11 -O1 -o build/embed_migrations tools/embed_migrations.c
	build/embed_migrations $@ $(MIGRATIONS) --code $(SQL_CODE)

# the pages and their URLs; every file in web/assets/ is served under /assets/,
# every language catalogue in web/i18n/ under /assets/i18n/ (and read by api/core/i18n.c)
WEB_PAGES := /donate=web/donate.html /donate/thanks=web/thanks.html /members=web/members.html \
             /admin=web/admin.html
WEB_ASSETS := $(sort $(wildcard web/assets/*))
WEB_I18N := $(sort $(wildcard web/i18n/*.json))
build/assets.c: tools/embed_files.c $(wildcard web/*.html) $(WEB_ASSETS) $(WEB_I18N) api/openapi.yaml
	@mkdir -p build
	$(CC) -std=c11 -O1 -o build/embed_files tools/embed_files.c
	build/embed_files $@ $(WEB_PAGES) $(foreach f,$(WEB_ASSETS),/assets/$(notdir $(f))=$(f)) \
	    $(foreach f,$(WEB_I18N),/assets/i18n/$(notdir $(f))=$(f)) /v1/openapi.yaml=api/openapi.yaml

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) $(SAN_FLAGS) $(DEPFLAGS) -c -o $@ $<

build/patrond: $(OBJS)
	$(CC) $(CFLAGS_COMMON) $(CFLAGS) -o $@ $(OBJS) $(PKG_LIBS)

asan: deps build/asan/patrond

build/asan/patrond: $(ASAN_OBJS)
	$(CC) $(CFLAGS_COMMON) $(SAN_FLAGS) -o $@ $(ASAN_OBJS) $(PKG_LIBS)

UNIT_OBJS := $(patsubst %.c,build/asan/obj/%.o,$(UNIT_DEPS))
build/unit/%: build/asan/obj/tests/unit/%.o $(UNIT_OBJS)
	@mkdir -p build/unit
	$(CC) $(CFLAGS_COMMON) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

# The mail renderer's test brings catalogues of its own (it defines the
# asset table), so it links without build/assets.c.
MAIL_TEXT_DEPS := api/core/mail_text.c api/core/i18n.c api/core/money.c api/core/encode.c \
                  api/core/crypto.c
build/unit/test_mail_text: build/asan/obj/tests/unit/test_mail_text.o \
                           $(patsubst %.c,build/asan/obj/%.o,$(MAIL_TEXT_DEPS))
	@mkdir -p build/unit
	$(CC) $(CFLAGS_COMMON) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

# libFuzzer targets (tests/fuzz/): `make fuzz FUZZ_TIME=600` runs each in turn.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRCS))
FUZZ_TIME ?= 60
FUZZ_FLAGS = -g -O1 -fno-sanitize-recover=undefined
FUZZ_OBJS := $(patsubst %.c,build/fuzz/obj/%.o,$(UNIT_DEPS))
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang-14 $(CFLAGS_COMMON) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link,address,undefined \
	    $(DEPFLAGS) -c -o $@ $<

build/fuzz/%: build/fuzz/obj/tests/fuzz/%.o $(FUZZ_OBJS)
	clang-14 $(CFLAGS_COMMON) $(FUZZ_FLAGS) -fsanitize=fuzzer,address,undefined -o $@ $^ $(PKG_LIBS)

fuzz-build: deps $(FUZZ_BINS)

fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_TIME)

run: all
	@scripts/run.sh

unit: deps $(patsubst tests/unit/%.c,build/unit/%,$(UNIT_SRCS))

test: test-deps all asan unit fuzz-build
	@tests/run.sh

# The black-box suite with patrond under valgrind memcheck (slow: minutes per
# file). VALGRIND_TESTS picks files, e.g. VALGRIND_TESTS=tests/blackbox/hostile.test.js
valgrind: test-deps all unit
	@PATROND_BIN=tests/valgrind.sh PATROND_TEST_SLOWDOWN=10 PATROND_TESTS="$(VALGRIND_TESTS)" tests/run.sh

# Side-by-side benchmarks (../shared/bench, see README "Performance").
bench: all
	@scripts/deps.sh --bench
	@tests/bench/run.sh

# A long run under a fixed mixed load that fails on growth of RSS, fds or
# connections (README "Operations"); SOAK_S seconds, default 600.
soak: all
	@scripts/deps.sh --bench
	@tests/soak/run.sh

format:
	clang-format -i $(SRCS) $(HDRS) $(UNIT_SRCS) tools/*.c

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
