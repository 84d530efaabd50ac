#include "tokenmeter/model/normalizer.h"

#include <rapidjson/document.h>

#include <algorithm>

namespace tokenmeter {

// Defined in the generated normalization_table.cc (from data/normalization.json).
extern const char* const kNormalizationTableJson;

namespace {

std::string LowerTrim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t");
  std::string out(s.substr(b, e - b + 1));
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

Result<Normalizer> Normalizer::FromEmbeddedTable() { return FromJson(kNormalizationTableJson); }

Result<Normalizer> Normalizer::FromJson(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return InvalidArgument("normalization table is not a JSON object");
  }
  Normalizer n;
  auto read_map = [&](const char* name,
                      std::unordered_map<std::string, std::string>& out) -> Status {
    auto it = doc.FindMember(name);
    if (it == doc.MemberEnd() || !it->value.IsObject()) {
      return InvalidArgument(std::string("normalization table lacks object \"") + name + "\"");
    }
    for (const auto& m : it->value.GetObject()) {
      if (!m.value.IsString()) return InvalidArgument(std::string(name) + " values are strings");
      out.emplace(LowerTrim(m.name.GetString()), m.value.GetString());
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(read_map("providers", n.provider_aliases_));
  RETURN_IF_ERROR(read_map("models", n.model_aliases_));
  auto prefixes = doc.FindMember("model_prefixes");
  if (prefixes == doc.MemberEnd() || !prefixes->value.IsArray()) {
    return InvalidArgument("normalization table lacks array \"model_prefixes\"");
  }
  for (const auto& p : prefixes->value.GetArray()) {
    if (!p.IsString()) return InvalidArgument("model_prefixes are strings");
    n.model_prefixes_.push_back(LowerTrim(p.GetString()));
  }
  return n;
}

std::string Normalizer::Provider(std::string_view raw) const {
  std::string p = LowerTrim(raw);
  auto it = provider_aliases_.find(p);
  return it == provider_aliases_.end() ? p : it->second;
}

std::string Normalizer::Model(std::string_view /*provider*/, std::string_view raw) const {
  std::string m = LowerTrim(raw);
  for (const std::string& prefix : model_prefixes_) {
    if (m.size() > prefix.size() && m.compare(0, prefix.size(), prefix) == 0) {
      m.erase(0, prefix.size());
      break;
    }
  }
  auto it = model_aliases_.find(m);
  return it == model_aliases_.end() ? m : it->second;
}

}  // namespace tokenmeter
