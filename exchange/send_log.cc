#include "exchange/send_log.h"

#include <cerrno>
#include <cstring>

namespace shadow {

SendLog::~SendLog() {
  if (file_ != nullptr) std::fclose(file_);
}

bool SendLog::open(const std::string& path, std::string& error) {
  path_ = path;
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) {
    error = path + ": cannot create: " + std::strerror(errno);
    return false;
  }
  return true;
}

void SendLog::grow() {
  chunks_.push_back(std::make_unique<SendLogRecord[]>(kChunk));
  // make_unique value-initialises, i.e. writes every byte: the pages are faulted in now.
}

void SendLog::reserve(std::size_t n) {
  while (chunks_.size() * kChunk < n) grow();
}

bool SendLog::finish(std::string& error, std::size_t* written) {
  if (file_ == nullptr) return true;
  static char buf[1 << 20];
  std::setvbuf(file_, buf, _IOFBF, sizeof buf);
  std::size_t n = 0;
  bool ok = true;
  for (std::size_t i = 0; i < size_ && ok; ++i) {
    const SendLogRecord& r = chunks_[i / kChunk][i % kChunk];
    if (r.sent_ns < 0) continue;  // never reached a client
    ok = std::fwrite(&r, sizeof r, 1, file_) == 1;
    ++n;
  }
  if (std::fclose(file_) != 0) ok = false;
  file_ = nullptr;
  if (!ok) error = path_ + ": write error: " + std::strerror(errno);
  if (written != nullptr) *written = n;
  return ok;
}

}  // namespace shadow
