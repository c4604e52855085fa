#include "pipeline/tune_check.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "core/exit_codes.h"
#include "core/input_text.h"
#include "core/json_text.h"
#include "pipeline/cpu_list.h"
#include "pipeline/run_config.h"

namespace shadow {
namespace {

// Interface names as the kernel allows them (IFNAMSIZ 16 with the NUL, no '/' or blank); we
// also keep to the characters real names use, so a name is safe in a path and a message.
bool valid_ifname(const std::string& s) {
  return !s.empty() && s.size() <= 15 && s != "." && s != ".." &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-@") ==
             std::string::npos;
}

void resolve_cores(const TuneCheckOptions& o, const HostTree& host, TuneReport& r) {
  const std::optional<std::vector<int>> online = host.online_cpus();
  if (!online) {
    throw std::invalid_argument("cannot read the online CPUs from " +
                                host.path("/sys/devices/system/cpu/online") +
                                (o.root.empty() ? "" : " (--root " + printable(o.root) + ")"));
  }
  const std::string allowed = " (online CPUs: " + format_cpu_list(*online) + ")";
  if (!o.cores.empty()) {
    if (std::string why = parse_cpu_list(o.cores, r.cores, online->back()); !why.empty()) {
      throw std::invalid_argument("--cores: " + why + allowed);
    }
    if (r.cores.empty()) throw std::invalid_argument("--cores: the list is empty" + allowed);
    r.cores_from = "--cores";
  } else if (!o.config_path.empty()) {
    RunConfig cfg;
    try {
      cfg = load_run_config(o.config_path);
    } catch (const ConfigError& e) {
      throw std::invalid_argument(std::string("--config: ") + e.what());
    }
    for (const int cpu : {cfg.feed_cpu, cfg.engine_cpu}) {
      if (cpu >= 0) r.cores.push_back(cpu);
    }
    std::sort(r.cores.begin(), r.cores.end());
    r.cores.erase(std::unique(r.cores.begin(), r.cores.end()), r.cores.end());
    if (!r.cores.empty()) r.cores_from = "--config " + printable(o.config_path) + " (threads.feed_cpu, threads.engine_cpu)";
  }
  if (r.cores.empty()) {
    const std::size_t n = std::min<std::size_t>(2, online->size());
    r.cores.assign(online->end() - static_cast<std::ptrdiff_t>(n), online->end());
    r.cores_from = std::string("default: the last two online CPUs") +
                   (o.config_path.empty() ? "" : ", as the config pins no hot thread");
  }
  const std::vector<int> offline = cpu_difference(r.cores, *online);
  if (!offline.empty()) {
    throw std::invalid_argument(std::string(r.cores_from == "--cores" ? "--cores" : "--config") +
                                ": CPU " + format_cpu_list(offline) + " is not online" + allowed);
  }
}

void resolve_nic(const TuneCheckOptions& o, const HostTree& host, TuneReport& r) {
  if (!o.nic.empty()) {
    if (!valid_ifname(o.nic)) {
      throw std::invalid_argument("--nic: '" + printable(o.nic) +
                                  "' is not an interface name (1..15 of A-Z a-z 0-9 _ . : - @)");
    }
    if (!host.exists("/sys/class/net/" + o.nic)) {
      std::string names;
      for (const std::string& n : host.list("/sys/class/net")) {
        if (!names.empty()) names += ", ";
        names += printable(n);
      }
      throw std::invalid_argument("--nic: no interface '" + o.nic + "' (interfaces: " +
                                  (names.empty() ? "none" : names) + ")");
    }
    r.nic = o.nic;
    r.nic_from = "--nic";
    return;
  }
  r.nic = host.default_route_interface();
  if (!valid_ifname(r.nic)) r.nic.clear();
  r.nic_from = r.nic.empty() ? "none (no default route)" : "the default route";
}

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

}  // namespace

int TuneReport::warnings() const noexcept {
  return static_cast<int>(std::count_if(checks.begin(), checks.end(), [](const TuneCheck& c) { return !c.pass; }));
}

TuneReport build_tune_report(const TuneCheckOptions& o) {
  if (!o.root.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(o.root, ec)) {
      throw std::invalid_argument("--root: '" + printable(o.root) + "' is not a directory");
    }
  }
  const HostTree host(o.root);
  TuneReport r;
  r.root = host.root().empty() ? "/" : host.root();
  resolve_cores(o, host, r);
  resolve_nic(o, host, r);
  r.checks = check_host(host, HostTuningInput{.cores = r.cores, .nic = r.nic, .io_uring_probe = o.io_uring_probe});
  return r;
}

std::string render_tune_table(const TuneReport& r) {
  std::string out = "shadow-tune-check: host " + r.root + ", pinned CPU " + format_cpu_list(r.cores) +
                    " (" + r.cores_from + "), NIC " + (r.nic.empty() ? "-" : r.nic) + " (" + r.nic_from + ")\n\n";
  std::size_t wn = 5, wf = 5;
  for (const TuneCheck& c : r.checks) {
    wn = std::max(wn, c.name.size());
    wf = std::max(wf, c.found.size());
  }
  out += pad("CHECK", wn) + "  STATUS  " + pad("FOUND", wf) + "  FIX\n";
  for (const TuneCheck& c : r.checks) {
    out += pad(c.name, wn) + "  " + pad(c.pass ? "PASS" : "WARN", 6) + "  " + pad(c.found, wf) + "  " + c.fix + "\n";
  }
  const int warn = r.warnings();
  out += "\n" + std::to_string(r.checks.size()) + " checks: " + std::to_string(static_cast<int>(r.checks.size()) - warn) +
         " PASS, " + std::to_string(warn) + " WARN\n";
  return out;
}

std::string render_tune_json(const TuneReport& r) {
  std::string out = "{\"root\":";
  append_json_string(out, r.root);
  out += ",\"cores\":[";
  for (std::size_t i = 0; i < r.cores.size(); ++i) {
    if (i > 0) out += ',';
    out += std::to_string(r.cores[i]);
  }
  out += "],\"cores_from\":";
  append_json_string(out, r.cores_from);
  out += ",\"nic\":";
  append_json_string(out, r.nic);
  out += ",\"nic_from\":";
  append_json_string(out, r.nic_from);
  out += ",\"checks\":[";
  for (std::size_t i = 0; i < r.checks.size(); ++i) {
    const TuneCheck& c = r.checks[i];
    out += i ? ",{\"name\":" : "{\"name\":";
    append_json_string(out, c.name);
    out += c.pass ? ",\"status\":\"PASS\",\"found\":" : ",\"status\":\"WARN\",\"found\":";
    append_json_string(out, c.found);
    out += ",\"fix\":";
    append_json_string(out, c.fix);
    out += '}';
  }
  const int warn = r.warnings();
  out += "],\"pass\":" + std::to_string(static_cast<int>(r.checks.size()) - warn) + ",\"warn\":" + std::to_string(warn) + "}\n";
  return out;
}

int run_tune_check(const TuneCheckOptions& o) {
  TuneReport r;
  try {
    r = build_tune_report(o);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "shadow-tune-check: %s\n", e.what());
    return kExitBadInput;
  }
  const std::string text = o.json ? render_tune_json(r) : render_tune_table(r);
  std::fwrite(text.data(), 1, text.size(), stdout);
  if (std::fflush(stdout) != 0) {
    std::perror("shadow-tune-check: stdout");
    return kExitRuntimeFailure;
  }
  return o.strict && r.warnings() > 0 ? kExitHold : kExitOk;
}

}  // namespace shadow
