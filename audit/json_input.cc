// The audit's JSON reading (audit.h "JSON files"): bounded regular files, strict parsing, and
// every problem turned into an InputError naming the file and position.
#include <algorithm>
#include <string>
#include <unordered_set>
#include <vector>

#include "audit/audit.h"
#include "core/bounded_file.h"

namespace shadow::audit {

namespace {

// Line and column (1-based) of the 0-based `offset` in `text`.
std::string position_text(const std::string& text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + " (byte " +
         std::to_string(offset + 1) + ")";
}

// nlohmann's messages: "[json.exception.parse_error.101] parse error at line L, column C:
// <what>" and "[json.exception.out_of_range.406] number overflow parsing '1e999'"; keeps <what>
// (the position is recomputed from the text, the id is noise to a user).
std::string nlohmann_reason(const char* what) {
  std::string s = what;
  const std::size_t col = s.find("column ");
  std::size_t colon = col == std::string::npos ? std::string::npos : s.find(": ", col);
  if (colon != std::string::npos) return s.substr(colon + 2);
  if (s.rfind("[json.exception.", 0) == 0 && (colon = s.find("] ")) != std::string::npos) return s.substr(colon + 2);
  return s;
}

}  // namespace

nlohmann::json parse_json(const std::string& text, const std::string& file) {
  // nlohmann stops at a NUL byte and ignores what follows ('{"a": 1}\0garbage' parses); JSON
  // text has no place for one (RFC 8259 section 2: only tab, LF, CR and space between tokens,
  // section 7: control characters in strings are escaped), so any NUL is an error.
  if (const std::size_t nul = text.find('\0'); nul != std::string::npos) {
    throw InputError(file, "", "malformed JSON at " + position_text(text, nul) + ": a NUL byte (JSON text cannot hold one)");
  }
  // Depth, string length and duplicate keys are checked while parsing: nesting deeper than
  // kMaxJsonDepth, and strings longer than kMaxJsonString, would overflow the stack of the
  // schema validator (it recurses per level, and std::regex recurses per character of a string
  // checked against a "pattern": a 50 000-character file name crashed it); a key given twice is
  // ambiguous (nlohmann keeps the last one silently).
  std::vector<std::unordered_set<std::string>> keys;  // the keys seen, per open object
  const auto check = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        if (depth >= kMaxJsonDepth) {
          throw InputError(file, "", "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
        }
        if (event == E::object_start) keys.emplace_back();
        break;
      case E::object_end:
        keys.pop_back();
        break;
      case E::value:
        if (parsed.is_string() && parsed.get_ref<const std::string&>().size() > kMaxJsonString) {
          throw InputError(file, "", "JSON string longer than " + std::to_string(kMaxJsonString) + " bytes");
        }
        break;
      case E::key: {
        const std::string& key = parsed.get_ref<const std::string&>();
        if (key.size() > kMaxJsonString) {
          throw InputError(file, "", "JSON key longer than " + std::to_string(kMaxJsonString) + " bytes");
        }
        if (!keys.back().insert(key).second) {
          throw InputError(file, "", "ambiguous JSON: key " + brief(parsed) + " appears twice in one object");
        }
        break;
      }
      default:
        break;
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text, check);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is the 1-based offset of the character that broke the parse (one past the end
    // for truncated input).
    const std::size_t byte = std::min<std::size_t>(e.byte, text.size() + 1);
    throw InputError(file, "", "malformed JSON at " + position_text(text, byte == 0 ? 0 : byte - 1) + ": " +
                                   nlohmann_reason(e.what()));
  } catch (const nlohmann::json::out_of_range& e) {
    // 406 "number overflow parsing '1e999'": a number no double holds. nlohmann gives no
    // position; the token's first occurrence is where it is.
    std::string where;
    const std::string reason = nlohmann_reason(e.what());
    const std::size_t q1 = reason.find('\''), q2 = reason.rfind('\'');
    if (q1 != std::string::npos && q2 > q1 + 1) {
      const std::size_t at = text.find(reason.substr(q1 + 1, q2 - q1 - 1));
      if (at != std::string::npos) where = " at " + position_text(text, at);
    }
    throw InputError(file, "", "malformed JSON" + where + ": " + reason + " (not a finite number)");
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, "", "malformed JSON: " + nlohmann_reason(e.what()));
  }
}

nlohmann::json read_json_file(const std::string& path, std::size_t max_bytes) {
  std::string text, error;
  if (!read_regular_file(path, max_bytes, text, error)) throw InputError(path, "", error);
  return parse_json(text, path);
}

}  // namespace shadow::audit
