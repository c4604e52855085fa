// PredictionTracker::load_ground_truth(): the sandbox's ground-truth JSONL (docs/SANDBOX.md
// "Ground truth", schemas/sandbox_ground_truth.schema.json), read line by line with a bounded
// line length; only "accepted" lines of this run's orderLinkId tag are kept.
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "core/bounded_file.h"
#include "core/input_text.h"
#include "sinks/prediction_tracker.h"

namespace shadow {

bool PredictionTracker::load_ground_truth(const std::string& path, std::string_view link_tag, std::string& error) {
  if (finished_) {
    error = path + ": read after finish()";
    return false;
  }
  std::string open_error;
  const int fd = open_regular_file(path, open_error);
  if (fd < 0) {
    error = path + ": " + open_error;
    return false;
  }
  std::FILE* f = ::fdopen(fd, "r");
  if (f == nullptr) {
    error = path + ": cannot read";
    return false;
  }
  std::map<Key, Fixed> found;  // kept only when the whole file reads
  std::string line;
  std::size_t number = 0;
  bool ok = true;
  const auto fail = [&](const std::string& why) {
    error = path + ":" + std::to_string(number) + ": " + why;
    ok = false;
  };
  for (int c = 0; ok && c != EOF;) {
    line.clear();
    ++number;
    while ((c = std::getc(f)) != EOF && c != '\n') {
      if (line.size() == kMaxGroundTruthLine) break;
      line += static_cast<char>(c);
    }
    if (c != EOF && c != '\n') {
      fail("line longer than " + std::to_string(kMaxGroundTruthLine) + " bytes");
      break;
    }
    if (line.empty()) {
      if (c == EOF) break;
      continue;
    }
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      fail("malformed JSON: " + printable(line));
      break;
    }
    if (!doc.is_object()) {
      fail("not a JSON object");
      break;
    }
    const auto event = doc.find("event");
    const auto link = doc.find("orderLinkId");
    if (event == doc.end() || !event->is_string() || link == doc.end() || !link->is_string()) {
      fail("\"event\" and \"orderLinkId\" must be strings");
      break;
    }
    if (event->get_ref<const std::string&>() != "accepted") continue;
    std::uint16_t slot = 0;
    std::uint64_t id = 0;
    if (!parse_link_id(link->get_ref<const std::string&>(), link_tag, slot, id)) continue;  // another run
    const auto queue = doc.find("queue_ahead");
    if (queue == doc.end()) {
      fail("an \"accepted\" line without \"queue_ahead\"");
      break;
    }
    if (queue->is_null()) continue;  // can never rest: no queue
    Fixed q = 0;
    if (!queue->is_string() || !parse_fixed(queue->get_ref<const std::string&>(), q) || q < 0) {
      fail("\"queue_ahead\" must be a decimal string or null");
      break;
    }
    found.emplace(Key{slot, id}, q);  // the first acceptance is the placement
  }
  if (ok && std::ferror(f)) {
    error = path + ": read error";
    ok = false;
  }
  std::fclose(f);
  if (!ok) return false;
  for (const auto& [key, q] : found) {
    if (key.first >= symbols_) continue;
    Order& o = order(key.first, key.second);
    o.has_true_queue = true;
    o.true_queue = q;
  }
  report_.ground_truth_file = path;
  report_.ground_truth_orders = found.size();
  return true;
}

}  // namespace shadow
