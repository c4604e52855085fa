#include "audit/prediction_check.h"

#include <filesystem>

#include "audit/audit.h"

namespace shadow::audit {

PredictionCheck check_prediction_vs_reality(const std::string& run_dir, const std::string& schema_dir,
                                            const std::string& run_id) {
  namespace fs = std::filesystem;
  PredictionCheck c;
  c.file = (fs::path(run_dir) / "PREDICTION_VS_REALITY.json").string();
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(c.file, ec)) || ec) return c;
  c.present = true;
  const nlohmann::json doc = read_json_file(c.file);
  const SchemaValidator schema((fs::path(schema_dir) / "prediction_vs_reality.schema.json").string());
  schema.check(doc, c.file);
  using V = nlohmann::json::value_t;
  const std::string id = required_field(doc, "run_id", V::string, c.file).get<std::string>();
  if (id != run_id) {
    throw InputError(c.file, "/run_id", "'" + id + "' differs from '" + run_id + "' of the iterations");
  }
  c.pass = required_field(doc, "verdict", V::string, c.file).get<std::string>() == "PASS";
  for (const auto& name : required_field(doc, "failed", V::array, c.file)) c.failed.push_back(name.get<std::string>());
  for (const auto& name : required_field(doc, "missing", V::array, c.file)) c.missing.push_back(name.get<std::string>());
  // The verdict must agree with its own lists (a hand-edited PASS over failures is refused).
  if (c.pass != (c.failed.empty() && c.missing.empty())) {
    throw InputError(c.file, "/verdict", std::string(c.pass ? "PASS" : "HOLD") + " disagrees with /failed and /missing");
  }
  return c;
}

}  // namespace shadow::audit
