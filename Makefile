# shadow — the two commands (README): `make run` and `make test`. Both install what is missing
# (tools/install-deps, idempotent, quick when everything is there) and build first.
#
#   make build   Release build in build/release
#   make run     the main job: a quick shadow run against the embedded exchange (6 x 10 s, config/
#                shadow.toml), then its audit (table + verdict; HOLD does not fail `make run`) and
#                its HTML report (the path printed last; docs/OPERATIONS.md "The report")
#   make test    every test: Release, then ASan+UBSan, then the concurrency tests under TSan
#   make dryrun  a dry-run on the embedded sandbox (config/dryrun.toml, 3 x 20 s): the shadow's
#                decisions as real orders, then the audit with the prediction-vs-reality gate, and
#                the report
#   make bench   the Google Benchmark programs (peers side by side) and the replay throughput
#   make fuzz    libFuzzer targets (clang) for FUZZ_SECONDS each on a corpus from the samples

JOBS ?= $(shell nproc)
DATA ?= $(abspath ../shared/data)
FUZZ_SECONDS ?= 60
RUN_DIR ?= artifacts/shadow/latest
CONFIG ?= config/shadow.toml
RUN_ARGS ?=

.PHONY: deps build run dryrun shadow-run shadow-audit shadow-report shadow-ci test test-release test-asan test-tsan bench bench-sandbox \
        bench-latency bench-replay fuzz clean

deps:
	@tools/install-deps

build: deps
	@cmake --preset release -DSHADOW_DATA_DIR=$(DATA) >/dev/null
	@cmake --build build/release -j$(JOBS)

run: build
	build/release/tools/shadow-run --config $(CONFIG) --quick $(RUN_ARGS)
	build/release/tools/shadow-audit artifacts/shadow/latest
	build/release/tools/shadow-report artifacts/shadow/latest

dryrun: build
	build/release/tools/shadow-run --config config/dryrun.toml $(RUN_ARGS)
	build/release/tools/shadow-audit artifacts/shadow/latest
	build/release/tools/shadow-report artifacts/shadow/latest

# make shadow-run     a shadow run with CONFIG (default config/shadow.toml: 6 x 60 s); RUN_ARGS
#                     adds shadow-run flags, e.g. RUN_ARGS="--quick --layout split".
# make shadow-audit   audit RUN_DIR (default artifacts/shadow/latest): table, verdict and
#                     POST_SHADOW_AUDIT_SUMMARY.json; exit 0 on PASS or HOLD, 2 on unusable input.
# make shadow-report  the HTML report of RUN_DIR (RUN_DIR/report.html); REPORT_ARGS adds flags, e.g.
#                     REPORT_ARGS="--compare artifacts/shadow/<baseline run> -o /tmp/r.html".
# make shadow-ci      the CI gate: the audit with --fail-on-hold (HOLD exits 1; docs/KPIS.md),
#                     then the report either way (its path printed), then the audit's exit status.
shadow-run: build
	build/release/tools/shadow-run --config $(CONFIG) $(RUN_ARGS)

shadow-audit: build
	build/release/tools/shadow-audit $(RUN_DIR)

REPORT_ARGS ?=
shadow-report: build
	build/release/tools/shadow-report $(RUN_DIR) $(REPORT_ARGS)

shadow-ci: build
	@rc=0; build/release/tools/shadow-audit $(RUN_DIR) --fail-on-hold || rc=$$?; \
	  build/release/tools/shadow-report $(RUN_DIR) $(REPORT_ARGS) || exit $$?; exit $$rc

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
	@TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp" ctest --test-dir build/tsan --output-on-failure -L concurrency

bench: build
	@for b in build/release/bench/*_benchmark; do echo "== $$b"; $$b; done
	@build/release/tools/shadow-replay --preload $(DATA)/binance/spot_btcusdt_20240808.gz

# make bench-latency   1) shadow-run's wire-to-decision latency per arrival profile (paced 10 k and
#                      100 k events/s, 100-message bursts), 3 runs each, medians, with the
#                      per-stage breakdown and the hot thread's preemptions for every row
#                      and the host's noise floor (bench/host-jitter) before each repetition
#                      (bench/latency_matrix.py; MATRIX_ARGS adds options, e.g. "--repeat 5");
#                      2) the live feed alone against shadow-exchange at 10 k / 100 k / 1 M
#                      events/s, the loopback TCP ping-pong floor measured in the same run, and
#                      reader syscalls per message (LATENCY_ARGS, e.g. "--sqpoll --json out.json").
#                      docs/PERFORMANCE.md.
LATENCY_ARGS ?=
MATRIX_ARGS ?=
bench-latency: build
	@python3 bench/latency_matrix.py build/release/tools/shadow-run \
	  --host-jitter build/release/bench/host-jitter $(MATRIX_ARGS)
	@build/release/bench/wire-latency --exchange build/release/tools/shadow-exchange $(LATENCY_ARGS)

# make bench-replay    replay throughput on the Binance and Bybit captures: shadow-replay against
#                      a naive C++ peer (nlohmann + std::map + blocking reads) and the seed's
#                      Python stack (json + dict books), same run, medians of 5; file in memory,
#                      end to end, and process start included (docs/PERFORMANCE.md "Replay").
#                      REPLAY_ARGS adds options, e.g. REPLAY_ARGS="--repetitions 9 --json out.json".
REPLAY_ARGS ?=
bench-replay: build
	@python3 bench/replay_peers.py --replay build/release/tools/shadow-replay \
	  --naive build/release/bench/naive-replay --data $(DATA) $(REPLAY_ARGS)

# make bench-sandbox   the public stream's publisher delay with and without 1,000 order
#                      requests/s on the sandbox REST API, and create -> ack round trips.
bench-sandbox: build
	@build/release/bench/sandbox-latency --exchange build/release/tools/shadow-exchange

fuzz: deps
	@cmake --preset fuzz -DSHADOW_DATA_DIR=$(DATA) >/dev/null
	@cmake --build build/fuzz -j$(JOBS)
	@tests/fuzz/run_fuzzers.sh build/fuzz $(DATA) $(FUZZ_SECONDS)

clean:
	rm -rf build

