// How the config file's values are read: strictly (unknown keys and wrong types are
// errors naming the key and line), with ${NAME} taken from the environment. Internal to
// the composition root (config_file.cc). Single-threaded, at start.
#ifndef TOKENMETER_DEPLOY_CONFIG_YAML_H_
#define TOKENMETER_DEPLOY_CONFIG_YAML_H_

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "tokenmeter/base/status.h"
#include "tokenmeter/base/units.h"
#include "tokenmeter/processor/pricing_config.h"

namespace tokenmeter {

// "path (line N)" for a node.
std::string Where(const YAML::Node& n, const std::string& path);
// Rejects keys of `n` not in `allowed`.
Status OnlyKeys(const YAML::Node& n, const std::string& path, std::set<std::string> allowed);
// Replaces ${NAME} with the environment variable NAME; an unset variable is an error.
Result<std::string> ExpandEnv(const std::string& s, const std::string& where);

// Reads parent[key] into `out` when present (a string, a number, a bool or seconds).
template <typename T>
Status Get(const YAML::Node& parent, const char* key, const std::string& path, T& out) {
  YAML::Node n = parent[key];
  if (!n) return Status::Ok();
  std::string where = Where(n, path + "." + key);
  if (!n.IsScalar()) return InvalidArgument(where + " must be a scalar");
  try {
    if constexpr (std::is_same_v<T, std::string>) {
      Result<std::string> v = ExpandEnv(n.as<std::string>(), where);
      if (!v.ok()) return v.status();
      out = *v;
    } else if constexpr (std::is_same_v<T, std::chrono::seconds>) {
      out = std::chrono::seconds(n.as<long long>());
    } else {
      out = n.as<T>();
    }
  } catch (const YAML::Exception&) {
    return InvalidArgument(where + " has the wrong type");
  }
  return Status::Ok();
}

// A list of strings.
Status GetStringList(const YAML::Node& parent, const char* key, const std::string& path,
                     std::vector<std::string>& out);
// "0.8" -> 800000 parts per million, exactly; nullopt for anything else.
std::optional<uint32_t> ParseFraction(const std::string& text);
// A decimal fraction, as parts per million.
Status GetFraction(const YAML::Node& parent, const char* key, const std::string& path, uint32_t& ppm);
// A decimal USD amount, as nano-USD.
Status GetUsdNano(const YAML::Node& parent, const char* key, const std::string& path, int64_t& nano);

}  // namespace tokenmeter

#endif  // TOKENMETER_DEPLOY_CONFIG_YAML_H_
