#!/bin/sh
# `make fuzz`: runs every libFuzzer target of a SHADOW_BUILD_FUZZERS build for SECONDS each on
# seeds split from the recorded samples plus the in-repo corpus. New inputs libFuzzer finds
# stay in BUILD_DIR/fuzz-corpus/<target> (a build directory, never committed); a crash leaves
# its reproducer in BUILD_DIR/fuzz-artifacts/ and fails the run.
#   tests/fuzz/run_fuzzers.sh BUILD_DIR DATA_DIR SECONDS
set -eu
build=${1:?usage: run_fuzzers.sh BUILD_DIR DATA_DIR SECONDS}
data=${2:?usage: run_fuzzers.sh BUILD_DIR DATA_DIR SECONDS}
seconds=${3:-60}
here=$(dirname "$0")
"$here/make_seed_corpus.sh" "$build/fuzz-seeds" "$data"
mkdir -p "$build/fuzz-artifacts"
# target name : seed directory (the decoders get the split samples, the others their corpus)
for spec in "bybit_decoder_fuzz:$build/fuzz-seeds/bybit" "binance_decoder_fuzz:$build/fuzz-seeds/binance" \
            "websocket_fuzz:$here/corpus/websocket" "capture_reader_fuzz:$here/corpus/capture_reader" \
            "audit_artifact_fuzz:$here/corpus/audit_artifact" "config_fuzz:$here/corpus/config" \
            "sandbox_request_fuzz:$here/corpus/sandbox_request" "sandbox_ws_fuzz:$here/corpus/sandbox_ws"; do
  name=${spec%%:*}
  seeds=${spec#*:}
  bin=$(find "$build/tests" -name "$name" -type f -perm -u+x | head -n 1)  # tests/<layer>/<name>
  [ -n "$bin" ] || { echo "run_fuzzers: $name not built under $build/tests (configure with SHADOW_BUILD_FUZZERS=ON and clang)"; exit 1; }
  mkdir -p "$build/fuzz-corpus/$name"
  echo "== $name: ${seconds}s"
  "$bin" "$build/fuzz-corpus/$name" "$seeds" \
    -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/${name}-"
done
