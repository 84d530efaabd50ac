#include "config_yaml.h"

#include <cstdlib>

namespace tokenmeter {

std::string Where(const YAML::Node& n, const std::string& path) {
  return path + " (line " + std::to_string(n.Mark().line + 1) + ")";
}

Status OnlyKeys(const YAML::Node& n, const std::string& path, std::set<std::string> allowed) {
  if (!n.IsMap()) return InvalidArgument(Where(n, path) + " must be a mapping");
  for (const auto& kv : n) {
    std::string k = kv.first.as<std::string>();
    if (!allowed.contains(k)) {
      return InvalidArgument("unknown key \"" + k + "\" in " + path + " at line " +
                             std::to_string(kv.first.Mark().line + 1));
    }
  }
  return Status::Ok();
}

Result<std::string> ExpandEnv(const std::string& s, const std::string& where) {
  std::string out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t open = s.find("${", pos);
    if (open == std::string::npos) break;
    size_t close = s.find('}', open);
    if (close == std::string::npos) break;
    out.append(s, pos, open - pos);
    std::string name = s.substr(open + 2, close - open - 2);
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return InvalidArgument(where + ": environment variable " + name + " is not set");
    out += v;
    pos = close + 1;
  }
  out.append(s, pos);
  return out;
}

Status GetStringList(const YAML::Node& parent, const char* key, const std::string& path,
                     std::vector<std::string>& out) {
  YAML::Node n = parent[key];
  if (!n) return Status::Ok();
  std::string where = path + "." + key;
  if (!n.IsSequence()) return InvalidArgument(Where(n, where) + " must be a list");
  out.clear();
  for (size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar()) return InvalidArgument(Where(n[i], where) + " must list strings");
    Result<std::string> v = ExpandEnv(n[i].as<std::string>(), Where(n[i], where));
    if (!v.ok()) return v.status();
    out.push_back(*v);
  }
  return Status::Ok();
}

std::optional<uint32_t> ParseFraction(const std::string& text) {
  std::optional<NanoUsd> v = ParseDecimalUsd(text, 10);
  if (!v || v->value % 1000 != 0) return std::nullopt;
  return static_cast<uint32_t>(v->value / 1000);
}

Status GetFraction(const YAML::Node& parent, const char* key, const std::string& path, uint32_t& ppm) {
  std::string text;
  RETURN_IF_ERROR(Get(parent, key, path, text));
  if (text.empty()) return Status::Ok();
  std::optional<uint32_t> v = ParseFraction(text);
  if (!v) return InvalidArgument(Where(parent[key], path + "." + key) + " must be a decimal, e.g. 0.5");
  ppm = *v;
  return Status::Ok();
}

Status GetUsdNano(const YAML::Node& parent, const char* key, const std::string& path, int64_t& nano) {
  std::string text;
  RETURN_IF_ERROR(Get(parent, key, path, text));
  if (text.empty()) return Status::Ok();
  std::optional<NanoUsd> v = ParseDecimalUsd(text, 1'000'000'000);
  if (!v) return InvalidArgument(Where(parent[key], path + "." + key) + " must be a decimal USD amount");
  nano = v->value;
  return Status::Ok();
}

}  // namespace tokenmeter
