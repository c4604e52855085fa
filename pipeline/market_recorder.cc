#include "pipeline/market_recorder.h"

#include <stdexcept>

namespace shadow {
namespace {

BufferedFileWriter& opened(BufferedFileWriter& w, const std::string& path) {
  std::string err;
  if (!w.open(path, "the market capture", err)) throw std::runtime_error(err);
  return w;
}

}  // namespace

std::vector<std::string> bybit_market_topics(const std::vector<std::string>& symbols) {
  std::vector<std::string> t;
  for (const std::string& s : symbols) {
    t.push_back("orderbook.50." + s);
    t.push_back("publicTrade." + s);
  }
  return t;
}

MarketRecorder::MarketRecorder(const std::string& url, std::vector<std::string> topics, const std::string& path,
                               TlsOptions tls)
    : recorder_(opened(capture_, path), replayer_, Protocol::kBybit, 20) {
  FeedSessionConfig fc;
  fc.url = url;
  fc.venue = FeedVenue::kBybit;
  fc.topics = std::move(topics);
  fc.client.tls = std::move(tls);
  session_ = std::make_unique<FeedSession>(fc);
  recorder_.attach(session_.get());
}

MarketRecorder::~MarketRecorder() = default;

int MarketRecorder::do_work() {
  if (session_->done()) return 0;
  return session_->poll(recorder_);
}

void MarketRecorder::on_close() {
  if (!session_->done()) {
    session_->stop(1'000'000'000);
    while (!session_->done()) session_->poll(recorder_);
  }
  if (!capture_.close()) throw std::runtime_error(capture_.error());
}

}  // namespace shadow
