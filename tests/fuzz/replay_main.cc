// Replays saved inputs through LLVMFuzzerTestOneInput without libFuzzer (simdjson's fuzz
// layout): each argument is a file or a directory (recursed). A file is one input, except
// .jsonl, .gz and .capture files, read with CaptureReader: every non-empty line is one input,
// with the optional leading `<digits> ` (capture receive time) stripped.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "feed/capture_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::size_t g_inputs = 0;

void run(const char* data, std::size_t size) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data), size);
  ++g_inputs;
}

bool ends_with(const std::string& s, const char* suffix) {
  const std::size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool replay_file(const std::string& path) {
  if (ends_with(path, ".gz") || ends_with(path, ".jsonl") || ends_with(path, ".capture")) {
    // Capture files: CaptureReader splits lines and strips the `<local_ns> ` prefix, as the
    // replay tool does; the fuzz target copies each line into its own padded buffer.
    shadow::CaptureReader reader;
    std::string error;
    if (!reader.open(path, error)) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return false;
    }
    shadow::CaptureLine line;
    while (reader.next(line)) run(line.data, line.len);
    if (!reader.error().empty()) {
      std::fprintf(stderr, "%s\n", reader.error().c_str());
      return false;
    }
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  const std::string input{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  run(input.data(), input.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (fs::is_directory(argv[i], ec)) {
      std::vector<std::string> files;
      for (const auto& e : fs::recursive_directory_iterator(argv[i])) {
        if (e.is_regular_file()) files.push_back(e.path().string());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        if (!replay_file(f)) std::fprintf(stderr, "cannot read %s\n", f.c_str());
      }
    } else if (!fs::exists(argv[i], ec)) {
      // The recorded samples are optional (../shared/data may be absent): say so, go on.
      std::printf("skipping %s: not found\n", argv[i]);
    } else if (!replay_file(argv[i])) {
      std::fprintf(stderr, "cannot read %s\n", argv[i]);
      return 1;
    }
  }
  std::printf("replayed %zu inputs without a failure\n", g_inputs);
  return 0;
}
