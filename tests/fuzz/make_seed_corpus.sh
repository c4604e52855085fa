#!/bin/sh
# Splits the recorded samples into one file per message (the `<local_ns> ` prefix removed) as
# a libFuzzer seed corpus: OUT/bybit/* and OUT/binance/*. Write OUT inside a build directory;
# the seeds are derived from ../shared/data and are never committed.
#   tests/fuzz/make_seed_corpus.sh build/fuzz/seeds [DATA_DIR]
set -eu
out=${1:?usage: make_seed_corpus.sh OUT_DIR [DATA_DIR]}
data=${2:-${SHADOW_DATA_DIR:-$(dirname "$0")/../../../shared/data}}
mkdir -p "$out/bybit" "$out/binance"
split_lines() {  # stdin -> $1/seed_NNNNNN, prefix stripped
  sed -E 's/^[0-9]+ //' | awk -v dir="$1" 'NF { f = sprintf("%s/seed_%06d", dir, NR); printf "%s", $0 > f; close(f) }'
}
split_lines "$out/bybit" < "$data/bybit/xrpusdt_ob500_2024-12-01.jsonl"
# The Binance sample has ~41k lines, mostly alike: keep every 20th plus the REST snapshot.
gzip -dc "$data/binance/spot_btcusdt_20240808.gz" | awk 'NR % 20 == 1 || /lastUpdateId/' | split_lines "$out/binance"
cp "$(dirname "$0")"/corpus/bybit/* "$out/bybit/"
cp "$(dirname "$0")"/corpus/binance/* "$out/binance/"
echo "seeds: $(ls "$out/bybit" | wc -l) bybit, $(ls "$out/binance" | wc -l) binance under $out"
