# shadow — the two commands (README): `make run` and `make test`. Both install what is missing
# (tools/install-deps, idempotent, quick when everything is there) and build first.
#
#   make build   Release build in build/release
#   make run     the most complete job so far: shadow-replay over the recorded samples
#   make test    every test: Release, then ASan+UBSan, then the concurrency tests under TSan
#   make bench   the Google Benchmark programs (peers side by side) and the replay throughput
#   make fuzz    libFuzzer targets (clang) for FUZZ_SECONDS each on a corpus from the samples

JOBS ?= $(shell nproc)
DATA ?= $(abspath ../shared/data)
FUZZ_SECONDS ?= 60
RUN_DIR ?= artifacts/replay/$(shell date -u +%Y%m%dT%H%M%SZ)

.PHONY: deps build run test test-release test-asan test-tsan bench bench-latency fuzz clean

deps:
	@tools/install-deps

build: deps
	@cmake --preset release -DSHADOW_DATA_DIR=$(DATA) >/dev/null
	@cmake --build build/release -j$(JOBS)

run: build
	@test -d $(DATA) || { echo "make run: recorded samples not found at $(DATA) (set DATA=...)"; exit 1; }
	@mkdir -p $(RUN_DIR)
	build/release/tools/shadow-replay --book-trace $(RUN_DIR)/binance_spot_btcusdt.trace \
	  $(DATA)/binance/spot_btcusdt_20240808.gz
	build/release/tools/shadow-replay --book-trace $(RUN_DIR)/bybit_xrpusdt.trace \
	  $(DATA)/bybit/xrpusdt_ob500_2024-12-01.jsonl
	@ln -sfn $(notdir $(RUN_DIR)) $(dir $(RUN_DIR))latest
	@echo "book traces in $(RUN_DIR) (also $(dir $(RUN_DIR))latest)"

test: deps test-release test-asan test-tsan
	@echo "make test: all suites passed (release, asan+ubsan, tsan)"

test-release:
	@cmake --preset release -DSHADOW_DATA_DIR=$(DATA) >/dev/null
	@cmake --build build/release -j$(JOBS)
	@ctest --test-dir build/release --output-on-failure -j$(JOBS)

test-asan:
	@cmake --preset asan -DSHADOW_DATA_DIR=$(DATA) >/dev/null
	@cmake --build build/asan -j$(JOBS)
	@ctest --test-dir build/asan --output-on-failure -j$(JOBS)

# ThreadSanitizer only pays off where threads meet: build and run the `concurrency` slice.
test-tsan:
	@cmake --preset tsan -DSHADOW_DATA_DIR=$(DATA) >/dev/null
	@cmake --build build/tsan -j$(JOBS) --target concurrency_tests
	@ctest --test-dir build/tsan --output-on-failure -L concurrency

bench: build
	@for b in build/release/bench/*_benchmark; do echo "== $$b"; $$b; done
	@build/release/tools/shadow-replay --preload $(DATA)/binance/spot_btcusdt_20240808.gz

# make bench-latency   wire-to-decoded latency of the live feed against shadow-exchange at
#                      10 k / 100 k / 1 M events/s, the loopback TCP ping-pong floor measured in
#                      the same run, and reader syscalls per message (docs/PERFORMANCE.md).
#                      LATENCY_ARGS adds options, e.g. LATENCY_ARGS="--sqpoll --json out.json".
LATENCY_ARGS ?=
bench-latency: build
	@build/release/bench/wire-latency --exchange build/release/tools/shadow-exchange $(LATENCY_ARGS)

fuzz: deps
	@cmake --preset fuzz -DSHADOW_DATA_DIR=$(DATA) >/dev/null
	@cmake --build build/fuzz -j$(JOBS)
	@tests/fuzz/run_fuzzers.sh build/fuzz $(DATA) $(FUZZ_SECONDS)

clean:
	rm -rf build
