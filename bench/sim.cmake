# sim/: FlatBook against StdMapBook (std::map) and BtreeBook (absl::btree_map), synthetic and
# recorded streams (decoded with the feed decoders), in one program and one run.
shadow_add_benchmark(book_benchmark SOURCES book_benchmark.cc DEPS shadow::sim shadow::feed)
