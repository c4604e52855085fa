// Replays saved inputs through LLVMFuzzerTestOneInput without libFuzzer (simdjson's fuzz
// layout): each argument is a file or a directory (recursed). A file is one input, except
// .jsonl, .gz and .capture files, whose every line is one input with an optional leading
// `<digits> ` (capture receive time) stripped; .gz is read with zlib.
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::size_t g_inputs = 0;

void run(const std::string& s) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  ++g_inputs;
}

void run_line(std::string line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  std::size_t d = 0;
  while (d < line.size() && line[d] >= '0' && line[d] <= '9') ++d;
  if (d > 0 && d < line.size() && line[d] == ' ') line.erase(0, d + 1);
  run(line);
}

bool ends_with(const std::string& s, const char* suffix) {
  const std::size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

bool replay_file(const std::string& path) {
  if (ends_with(path, ".gz")) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (f == nullptr) return false;
    std::vector<char> buf(1 << 22);  // longer lines arrive in pieces and are joined
    std::string line;
    while (gzgets(f, buf.data(), static_cast<int>(buf.size())) != nullptr) {
      line += buf.data();
      if (!line.empty() && line.back() == '\n') {
        run_line(line);
        line.clear();
      }
    }
    if (!line.empty()) run_line(line);
    gzclose(f);
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  if (ends_with(path, ".jsonl") || ends_with(path, ".capture")) {
    std::string line;
    while (std::getline(in, line)) run_line(line);
    return true;
  }
  run(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
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
