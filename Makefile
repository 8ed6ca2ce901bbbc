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

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
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
