// ParamReader: the parameters of one sandbox API request (exchange/sandbox_request.h), from its
// query string (GET) or its JSON object body (POST), with Bybit's types checked as they are
// read, and the first problem kept as Bybit's retCode and a message naming the parameter. Every
// message quotes outside text only through printable() (printable ASCII, at most 40 bytes).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <simdjson.h>

#include "core/fixed_point.h"
#include "core/percent_decode.h"
#include "exchange/sandbox_request.h"

namespace shadow {

// One request parameter, from the query string or the JSON body.
struct Param {
  enum class Kind : std::uint8_t { kString, kBool, kNumber, kArray, kOther };
  std::string name;
  std::string value;  // strings decoded; true/false; a number's text
  Kind kind = Kind::kString;
  simdjson::dom::array array;  // kArray only (valid while the parser's document lives)
};

// Parameters the sandbox accepts and models, those it accepts when they ask for nothing it
// lacks (inert: positionIdx 0, orderFilter Order...), and documented ones it does not model.
using Names = std::span<const std::string_view>;
struct ParamSpec {
  Names modelled;
  Names inert;
  Names unsupported;
};

inline bool param_listed(Names list, std::string_view s) {
  for (const std::string_view x : list)
    if (x == s) return true;
  return false;
}

// The parameters of a request and the first problem met while reading them.
class ParamReader {
 public:
  std::vector<Param> params;
  int code = retcode::kOk;
  std::string msg;

  bool fail(std::string m, int c = retcode::kParams) {
    if (code == retcode::kOk) {
      code = c;
      msg = std::move(m);
    }
    return false;
  }
  const Param* get(std::string_view name) const {
    for (const Param& p : params)
      if (p.name == name) return &p;
    return nullptr;
  }

  bool read_query(std::string_view q) {
    while (!q.empty()) {
      const std::size_t amp = q.find('&');
      const std::string_view pair = q.substr(0, amp);
      q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
      if (pair.empty()) continue;
      const std::size_t eq = pair.find('=');
      Param p;
      std::string value;
      if (!percent_decode(pair.substr(0, eq), p.name, true) ||
          !percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), value, true)) {
        return fail("params error: the query string has a broken %-escape");
      }
      if (get(p.name) != nullptr) return fail("params error: parameter '" + printable(p.name) + "' is given twice");
      p.value = std::move(value);
      params.push_back(std::move(p));
      if (params.size() > 64) return fail("params error: more than 64 parameters");
    }
    return true;
  }

  bool read_object(simdjson::dom::object obj) {
    for (const auto field : obj) {
      Param p;
      p.name = std::string(field.key);
      if (get(p.name) != nullptr) return fail("params error: parameter '" + printable(p.name) + "' is given twice");
      switch (field.value.type()) {
        case simdjson::dom::element_type::STRING:
          p.value = std::string(std::string_view(field.value));
          break;
        case simdjson::dom::element_type::BOOL:
          p.kind = Param::Kind::kBool;
          p.value = bool(field.value) ? "true" : "false";
          break;
        case simdjson::dom::element_type::INT64:
        case simdjson::dom::element_type::UINT64:
        case simdjson::dom::element_type::DOUBLE:
          p.kind = Param::Kind::kNumber;
          p.value = simdjson::minify(field.value);
          break;
        case simdjson::dom::element_type::ARRAY:
          p.kind = Param::Kind::kArray;
          p.array = field.value.get_array().value_unsafe();
          break;
        default:
          p.kind = Param::Kind::kOther;
          break;
      }
      params.push_back(std::move(p));
      if (params.size() > 64) return fail("params error: more than 64 parameters");
    }
    return true;
  }

  // Every parameter is one the endpoint documents and the sandbox honours.
  bool check_names(const ParamSpec& spec) {
    for (const Param& p : params) {
      if (param_listed(spec.modelled, p.name)) continue;
      if (param_listed(spec.inert, p.name)) {
        if (!inert_ok(p)) {
          return fail("params error: " + p.name + "=" + printable(p.value) +
                      " is not supported by the sandbox (one-way mode, no margin trading, no SMP)");
        }
        continue;
      }
      if (param_listed(spec.unsupported, p.name)) {
        if (p.kind == Param::Kind::kString && (p.value.empty() || p.value == "0")) continue;  // "not set"
        return fail("params error: " + p.name + " is not supported by the sandbox (no TP/SL or conditional orders)");
      }
      return fail("params error: unknown parameter '" + printable(p.name) + "'");
    }
    return true;
  }

  static bool inert_ok(const Param& p) {
    if (p.name == "positionIdx" || p.name == "isLeverage") return p.value == "0";
    if (p.name == "orderFilter") return p.value == "Order";
    if (p.name == "smpType") return p.value == "None";
    if (p.name == "closeOnTrigger") return p.value == "false";
    return true;  // symbolType, expDate, stopOrderType, execType: filters the sandbox has one answer to
  }

  bool string(std::string_view name, std::string& out, bool required, std::size_t max_len = 64) {
    const Param* p = get(name);
    if (p == nullptr || (p->kind == Param::Kind::kString && p->value.empty())) {
      if (required) return fail("params error: " + std::string(name) + " is required");
      return true;
    }
    if (p->kind != Param::Kind::kString) return fail("params error: " + std::string(name) + " must be a string");
    if (p->value.size() > max_len) {
      return fail("params error: " + std::string(name) + " is longer than " + std::to_string(max_len) + " characters");
    }
    out = p->value;
    return true;
  }

  bool decimal(std::string_view name, Fixed& out, bool required) {
    std::string text;
    if (!string(name, text, required, 32)) return false;
    if (text.empty()) return true;
    if (!parse_fixed(text, out)) return fail("params error: " + std::string(name) + " '" + printable(text) + "' is not a decimal number");
    return true;
  }

  // An integer parameter: a JSON number in a body, digits in a query (or a string of digits).
  bool integer(std::string_view name, std::int64_t& out, std::int64_t lo, std::int64_t hi) {
    const Param* p = get(name);
    if (p == nullptr || (p->kind == Param::Kind::kString && p->value.empty())) return true;
    if (p->kind != Param::Kind::kString && p->kind != Param::Kind::kNumber) {
      return fail("params error: " + std::string(name) + " must be an integer");
    }
    std::int64_t v = 0;
    const auto r = std::from_chars(p->value.data(), p->value.data() + p->value.size(), v);
    if (r.ec != std::errc() || r.ptr != p->value.data() + p->value.size() || v < lo || v > hi) {
      return fail("params error: " + std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + "]");
    }
    out = v;
    return true;
  }

  bool category(SandboxCommand& cmd, bool required) {
    std::string c;
    if (!string("category", c, required)) return false;
    if (c.empty()) return true;
    if (!parse_category(c, cmd.category)) return fail("params error: category '" + printable(c) + "' is not linear or spot");
    cmd.has_category = true;
    return true;
  }

  static std::string printable(std::string_view s) {
    std::string out;
    for (const char ch : s.substr(0, 40)) out += (ch >= 0x20 && ch < 0x7f) ? ch : '?';
    if (s.size() > 40) out += "...";
    return out;
  }
};

}  // namespace shadow
