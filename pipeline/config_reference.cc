// Text renderings of the key table: numbers and values as the docs and messages print them,
// docs/CONFIG.md's key reference and shadow-run's flag lines.
#include "pipeline/config_keys.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>

namespace shadow {
namespace {

// Text joined by appending; also sidesteps GCC 12's false -Wrestrict on "literal" + std::string
// (bug 105329).
std::string cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

}  // namespace

std::string format_number(double v) {
  char buf[40];
  if (v == std::trunc(v) && std::fabs(v) < 1e6) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  for (int precision = 1; precision <= 17; ++precision) {  // the shortest text that reads back as v
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  const std::size_t e = s.find('e');  // "1e+07" -> "1e7", "1e-08" -> "1e-8"
  if (e != std::string::npos) {
    std::size_t digits = e + 1;
    if (s[digits] == '+') s.erase(digits, 1);
    else if (s[digits] == '-') ++digits;
    while (digits + 1 < s.size() && s[digits] == '0') s.erase(digits, 1);
  }
  return s;
}

std::string toml_literal(const ConfigValue& v) {
  // A TOML basic string (TOML 1.0 "String"): quote and backslash escaped, control bytes as
  // \u escapes of four hex digits (\u000a), so any stored value reads back as itself.
  struct Literal {
    static void quote(std::string& out, const std::string& s) {
      out.push_back('"');
      for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
          out.push_back('\\');
          out.push_back(c);
        } else if (u < 0x20 || u == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", u);
          out.append(buf);
        } else {
          out.push_back(c);
        }
      }
      out.push_back('"');
    }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t n) const { return std::to_string(n); }
    std::string operator()(double d) const { return format_number(d); }
    std::string operator()(const std::string& s) const {
      std::string out;
      quote(out, s);
      return out;
    }
    std::string operator()(const std::vector<std::string>& l) const {
      std::string out = "[";
      for (const std::string& s : l) {
        if (out.size() > 1) out.append(", ");
        quote(out, s);
      }
      return out + "]";
    }
  };
  return std::visit(Literal{}, v);
}

namespace {

std::string_view type_text(KeyType t) noexcept {
  switch (t) {
    case KeyType::kBool: return "bool";
    case KeyType::kWhole: return "integer";
    case KeyType::kNumber: return "number";
    case KeyType::kText:
    case KeyType::kChoice: return "string";
    case KeyType::kList: return "array of strings";
  }
  return "";
}

std::string default_text(const ConfigKey& k) {
  static const RunConfig defaults = default_run_config();
  return toml_literal(load_value(k, defaults));
}

// What the key accepts, without the type the table's type column already names.
std::string allowed_text(const ConfigKey& k) {
  switch (key_type(k)) {
    case KeyType::kBool: return "true, false";
    case KeyType::kWhole: return cat({key_range_text(k), k.power_of_two ? ", a power of two" : ""});
    case KeyType::kNumber:
      return k.zero_word.empty() ? key_range_text(k) : cat({key_range_text(k), " or ", toml_literal(std::string(k.zero_word))});
    case KeyType::kChoice: return key_allowed(k);
    case KeyType::kText:
    case KeyType::kList: return k.non_empty ? "not empty" : "any";
  }
  return {};
}

}  // namespace

std::string config_reference_markdown() {
  std::string md =
      "| key | type | default | allowed | flag | meaning |\n"
      "|---|---|---|---|---|---|\n";
  for (const ConfigKey& k : config_keys()) {
    std::string flag;
    if (!k.flag.empty()) flag = cat({"`", k.flag, " ", k.metavar, "`"});
    if (!k.flag_sets.empty()) flag += cat({" (sets `", k.flag_sets, "`)"});
    md += cat({"| `", k.path, "` | ", type_text(key_type(k)), " | `", default_text(k), "` | ", allowed_text(k), " | ",
               flag, " | ", k.doc, " |\n"});
  }
  return md;
}

std::string config_flags_usage() {
  constexpr std::size_t kColumn = 24;
  const std::string indent(kColumn, ' ');
  std::string out;
  for (const ConfigKey& k : config_keys()) {
    if (k.flag.empty()) continue;
    std::string head = cat({"  ", k.flag, " ", k.metavar});
    head = head.size() < kColumn ? head.append(kColumn - head.size(), ' ') : head.append("\n").append(indent);
    out += cat({head, k.doc, "\n", indent, k.path, ": ", key_allowed(k), "; default ", default_text(k)});
    if (!k.flag_sets.empty()) out += cat({"; sets ", k.flag_sets});
    out += "\n";
  }
  return out;
}

}  // namespace shadow
