# strata — top-level entry points. `make demo` and `make check` do all the set-up on a fresh
# Debian machine: they install missing packages with apt-get, build with CMake, then run.

# Debian packages the build, the tests and the demo need.
DEB_PACKAGES := build-essential cmake pkg-config clang libclang-rt-14-dev \
	libsqlite3-dev sqlite3 libyaml-dev zlib1g-dev libcjson-dev libssl-dev libxxhash-dev \
	libroaring-dev libgsl-dev libxgboost-dev libmicrohttpd-dev libcmocka-dev \
	chromium tzdata time python3
# Extra packages for the benchmarks against peers (bench/).
BENCH_PACKAGES := python3 python3-pandas python3-numpy python3-sklearn python3-xgboost \
	python3-scipy postgresql hyperfine

BUILD   ?= build
ASAN    ?= build-asan
TSAN    ?= build-tsan
FUZZB   ?= build-fuzz
JOBS    ?= $(shell nproc)
STRATA  := $(BUILD)/strata

.PHONY: all deps bench-deps build demo check test test-asan test-tsan fuzz bench clean

all: build

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

bench-deps: deps
	@missing=$$(for p in $(BENCH_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# The release build is profile-guided: an instrumented build ($(BUILD)/pgo-gen) runs the demo
# job once on generated data, and the build proper compiles with its counts and link-time
# optimization (bench/RESULTS.md: a few percent less wall time on the 10M-row benchmark). The
# counts are made again when a source changes; `make build PGO=0` goes without them.
# It is also made for this machine (-march=native); `make build NATIVE=0` makes one to copy to
# others.
PGO     ?= 1
NATIVE  ?= 1
PGO_DIR := $(abspath $(BUILD))/pgo-profile
PGO_RUN := $(BUILD)/pgo-run
ARCH_FLAGS := -DSTRATA_NATIVE=$(if $(filter 1,$(NATIVE)),ON,OFF)
ifeq ($(PGO),1)
BUILD_NEEDS := $(PGO_DIR)/done
PGO_FLAGS   := -DSTRATA_PGO=use -DSTRATA_PGO_DIR=$(PGO_DIR)
else
BUILD_NEEDS :=
PGO_FLAGS   := -DSTRATA_PGO=
endif

$(PGO_DIR)/done: $(shell find src include cli tools -type f) CMakeLists.txt | deps
	rm -rf $(PGO_DIR) $(PGO_RUN)
	cmake -S . -B $(BUILD)/pgo-gen -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSTRATA_PGO=generate \
	  -DSTRATA_PGO_DIR=$(PGO_DIR) $(ARCH_FLAGS) >/dev/null
	cmake --build $(BUILD)/pgo-gen -j $(JOBS) --target strata
	$(BUILD)/pgo-gen/strata gen --users 20000 --orders 120000 --events 300000 --seed 7 \
	  --dirt 0.01 --out $(PGO_RUN)/sample --quiet
	$(BUILD)/pgo-gen/strata run --orders $(PGO_RUN)/sample/orders.csv \
	  --events $(PGO_RUN)/sample/events.csv --users $(PGO_RUN)/sample/users.csv \
	  --identities $(PGO_RUN)/sample/identities.csv --config examples/demo.yaml \
	  --out $(PGO_RUN)/out --db $(PGO_RUN)/strata.db --quiet >/dev/null
	touch $@

build: deps $(BUILD_NEEDS)
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(PGO_FLAGS) $(ARCH_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# The main job on shipped sample data, with the embedded SQLite store.
demo: build
	$(STRATA) gen --users 20000 --orders 120000 --events 300000 --seed 7 --dirt 0.01 --out out/sample
	$(STRATA) run --orders out/sample/orders.csv --events out/sample/events.csv \
	  --users out/sample/users.csv --identities out/sample/identities.csv \
	  --config examples/demo.yaml --out out --db out/strata.db

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: deps
	cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DSTRATA_SANITIZE=ON >/dev/null
	cmake --build $(ASAN) -j $(JOBS)
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS) -LE slow

# The threaded paths (load, clean, profiles, models, output) under ThreadSanitizer: only the
# binary and the black-box test that runs the whole job on 1, 2 and 3 threads.
test-tsan: deps
	cmake -S . -B $(TSAN) -DCMAKE_BUILD_TYPE=Debug -DSTRATA_TSAN=ON >/dev/null
	cmake --build $(TSAN) -j $(JOBS) --target strata
	cd $(TSAN) && ctest --output-on-failure -R '^cli/threads$$'

fuzz: deps
	CC=clang cmake -S . -B $(FUZZB) -DCMAKE_BUILD_TYPE=Debug -DSTRATA_SANITIZE=ON -DSTRATA_FUZZ=ON >/dev/null
	cmake --build $(FUZZB) -j $(JOBS)
	bash fuzz/run.sh $(FUZZB) $${FUZZ_SECONDS:-15}

# Every test: the release build, the sanitizer builds, and a short run of every fuzz target.
check: test test-asan test-tsan fuzz

bench: bench-deps build
	bash bench/run.sh

clean:
	rm -rf $(BUILD) $(ASAN) $(TSAN) $(FUZZB) out
