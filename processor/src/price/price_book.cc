#include "price_book.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>

#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/pricing/embedded_pricing.h"

namespace tokenmeter {
namespace {

// A map key: the parts joined by NUL bytes, written into `out` so that a
// caller on the per-event path can reuse one buffer.
void AssignKey(std::string& out, std::initializer_list<std::string_view> parts) {
  out.clear();
  bool first = true;
  for (std::string_view part : parts) {
    if (!first) out.push_back('\0');
    out.append(part);
    first = false;
  }
}

std::string Key(std::initializer_list<std::string_view> parts) {
  std::string k;
  AssignKey(k, parts);
  return k;
}

Status ReadPrices(const rapidjson::Value& obj, const std::string& where, TokenPrices& out) {
  if (!obj.IsObject()) return InvalidArgument(where + ": prices must be an object");
  for (const auto& m : obj.GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (!m.value.IsString()) return InvalidArgument(where + "." + std::string(name) + " must be a string");
    std::string_view text(m.value.GetString(), m.value.GetStringLength());
    FemtoUsd v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size()) {
      return InvalidArgument(where + "." + std::string(name) + ": not an integer femto-USD");
    }
    if (name == "input") out.input = v;
    else if (name == "output") out.output = v;
    else if (name == "cache_read") out.cache_read = v;
    else if (name == "cache_write") out.cache_write = v;
    else if (name == "cache_write_1h") out.cache_write_1h = v;
    else if (name == "reasoning") out.reasoning = v;
    else return InvalidArgument(where + ": unknown price component " + std::string(name));
  }
  return Status::Ok();
}

// "gpt-4o-2024-08-06" -> "gpt-4o"; "claude-3-5-haiku-20241022" -> "claude-3-5-haiku".
std::string StripDateSuffix(std::string_view model) {
  auto digits = [&](size_t from, size_t n) {
    if (from + n > model.size()) return false;
    for (size_t i = from; i < from + n; ++i) {
      if (model[i] < '0' || model[i] > '9') return false;
    }
    return true;
  };
  if (model.size() > 9 && model[model.size() - 9] == '-' && digits(model.size() - 8, 8)) {
    return std::string(model.substr(0, model.size() - 9));
  }
  if (model.size() > 11 && model[model.size() - 11] == '-' && digits(model.size() - 10, 4) &&
      model[model.size() - 6] == '-' && digits(model.size() - 5, 2) &&
      model[model.size() - 3] == '-' && digits(model.size() - 2, 2)) {
    return std::string(model.substr(0, model.size() - 11));
  }
  return {};
}

// The digits of a name's date suffix ("20250219" for both -20250219 and -2025-02-19).
std::string DateDigits(std::string_view model) {
  std::string digits;
  for (size_t i = StripDateSuffix(model).size(); i < model.size(); ++i) {
    if (model[i] >= '0' && model[i] <= '9') digits.push_back(model[i]);
  }
  return digits;
}

}  // namespace

Result<PriceBook> PriceBook::FromEmbedded() {
  return FromJson(EmbeddedCatalogJson(), EmbeddedAliasesJson());
}

Result<PriceBook> PriceBook::FromJson(std::string_view catalog_json, std::string_view aliases_json) {
  PriceBook book;
  rapidjson::Document doc;
  doc.Parse(catalog_json.data(), catalog_json.size());
  if (doc.HasParseError() || !doc.IsObject()) return InvalidArgument("pricing catalog is not a JSON object");
  auto version = doc.FindMember("catalog_version");
  auto models = doc.FindMember("models");
  if (version == doc.MemberEnd() || !version->value.IsString() || models == doc.MemberEnd() ||
      !models->value.IsArray()) {
    return InvalidArgument("pricing catalog needs catalog_version and models");
  }
  book.version_ = version->value.GetString();
  size_t i = 0;
  for (const auto& m : models->value.GetArray()) {
    std::string where = "models[" + std::to_string(i++) + "]";
    if (!m.IsObject() || !m.HasMember("provider") || !m.HasMember("model") ||
        !m.HasMember("prices") || !m["provider"].IsString() || !m["model"].IsString()) {
      return InvalidArgument(where + " needs provider, model and prices");
    }
    PriceEntry e;
    if (m.HasMember("effective_from")) {
      auto t = m["effective_from"].IsString() ? ParseRfc3339(m["effective_from"].GetString()) : std::nullopt;
      if (!t) return InvalidArgument(where + ".effective_from must be RFC 3339");
      e.effective_from = *t;
    }
    RETURN_IF_ERROR(ReadPrices(m["prices"], where, e.base));
    if (!e.base.input || !e.base.output) return InvalidArgument(where + " needs input and output prices");
    if (m.HasMember("source_key") && m["source_key"].IsString()) e.source = m["source_key"].GetString();
    if (m.HasMember("tiers")) {
      if (!m["tiers"].IsArray()) return InvalidArgument(where + ".tiers must be an array");
      for (const auto& t : m["tiers"].GetArray()) {
        PriceTier tier;
        if (!t.IsObject() || !t.HasMember("above_prompt_tokens") || !t["above_prompt_tokens"].IsUint64()) {
          return InvalidArgument(where + ".tiers[] needs above_prompt_tokens");
        }
        tier.above_prompt_tokens = t["above_prompt_tokens"].GetUint64();
        RETURN_IF_ERROR(ReadPrices(t["prices"], where + ".tiers", tier.prices));
        e.tiers.push_back(tier);
      }
      std::sort(e.tiers.begin(), e.tiers.end(),
                [](const PriceTier& a, const PriceTier& b) { return a.above_prompt_tokens < b.above_prompt_tokens; });
    }
    book.entries_[Key({m["provider"].GetString(), m["model"].GetString()})].push_back(std::move(e));
  }
  for (auto& [key, list] : book.entries_) {
    std::sort(list.begin(), list.end(),
              [](const PriceEntry& a, const PriceEntry& b) { return a.effective_from < b.effective_from; });
    // The newest dated version of each undated name (dates compared as their digits).
    const size_t nul = key.find('\0');
    const std::string_view model = std::string_view(key).substr(nul + 1);
    const std::string undated = StripDateSuffix(model);
    if (undated.empty()) continue;
    std::string& newest = book.newest_dated_[Key({std::string_view(key).substr(0, nul), undated})];
    if (newest.empty() || DateDigits(model) > DateDigits(newest)) newest.assign(model);
  }

  rapidjson::Document aliases;
  aliases.Parse(aliases_json.data(), aliases_json.size());
  if (aliases.HasParseError() || !aliases.IsObject() || !aliases.HasMember("aliases") ||
      !aliases["aliases"].IsObject()) {
    return InvalidArgument("pricing aliases need an \"aliases\" object");
  }
  for (const auto& p : aliases["aliases"].GetObject()) {
    if (!p.value.IsObject()) return InvalidArgument("aliases of a provider must be an object");
    for (const auto& a : p.value.GetObject()) {
      if (!a.value.IsString()) return InvalidArgument("an alias maps to a model name");
      book.aliases_[Key({p.name.GetString(), a.name.GetString()})] = a.value.GetString();
    }
  }
  return book;
}

const std::vector<PriceEntry>* PriceBook::Lookup(std::string_view provider, std::string_view model,
                                                 std::string* resolved) const {
  // Called for every event: the key is built in a buffer each thread reuses.
  thread_local std::string key;
  AssignKey(key, {provider, model});
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    if (resolved) resolved->assign(model);
    return &it->second;
  }
  auto alias = aliases_.find(key);
  if (alias != aliases_.end()) {
    it = entries_.find(Key({provider, alias->second}));
    if (it != entries_.end()) {
      if (resolved) *resolved = alias->second;
      return &it->second;
    }
  }
  return nullptr;
}

// Steps 2-4 of Find, for a name the catalog does not list as it is.
const std::vector<PriceEntry>* PriceBook::LookupClientName(std::string_view provider, std::string_view model,
                                                           std::string* resolved) const {
  if (std::string undated = StripDateSuffix(model); !undated.empty()) {
    if (const std::vector<PriceEntry>* list = Lookup(provider, undated, resolved)) return list;
  }
  constexpr std::string_view kLatest = "-latest";
  std::string_view base = model;
  if (base.size() > kLatest.size() && base.ends_with(kLatest)) {
    base.remove_suffix(kLatest.size());
    if (const std::vector<PriceEntry>* list = Lookup(provider, base, resolved)) return list;
  }
  auto dated = newest_dated_.find(Key({provider, base}));
  if (dated == newest_dated_.end()) return nullptr;
  return Lookup(provider, dated->second, resolved);
}

const PriceEntry* PriceBook::Find(std::string_view provider, std::string_view model,
                                  TimePoint at) const {
  const std::vector<PriceEntry>* list = Lookup(provider, model);
  if (list == nullptr) list = LookupClientName(provider, model, nullptr);
  if (list == nullptr) return nullptr;
  const PriceEntry* found = nullptr;
  for (const PriceEntry& e : *list) {
    if (e.effective_from <= at) found = &e;
  }
  return found;
}

std::string PriceBook::Resolve(std::string_view provider, std::string_view model) const {
  std::string resolved;
  if (Lookup(provider, model, &resolved) == nullptr) (void)LookupClientName(provider, model, &resolved);
  return resolved;
}

}  // namespace tokenmeter

namespace tokenmeter {
namespace {

void Overlay(const TokenPrices& over, TokenPrices& base) {
  if (over.input) base.input = over.input;
  if (over.output) base.output = over.output;
  if (over.cache_read) base.cache_read = over.cache_read;
  if (over.cache_write) base.cache_write = over.cache_write;
  if (over.cache_write_1h) base.cache_write_1h = over.cache_write_1h;
  if (over.reasoning) base.reasoning = over.reasoning;
}

}  // namespace

Status PriceBook::AddOverride(const PriceOverride& o) {
  PriceEntry e;
  e.effective_from = o.effective_from;
  e.workspace_override = true;
  e.source = "workspace override";
  // Start from the catalog's price in force then, so unset components keep it.
  if (const PriceEntry* catalog = Find(o.provider, o.model, o.effective_from)) e.base = catalog->base;
  Overlay(o.prices, e.base);
  if (!e.base.input || !e.base.output) {
    return InvalidArgument("price override for " + o.workspace + "/" + o.provider + "/" + o.model +
                           " needs input and output prices (the catalog has none for it)");
  }
  auto& list = overrides_[Key({o.workspace, o.provider, o.model})];
  list.push_back(std::move(e));
  std::sort(list.begin(), list.end(),
            [](const PriceEntry& a, const PriceEntry& b) { return a.effective_from < b.effective_from; });
  return Status::Ok();
}

Status PriceBook::AddAlias(const WorkspaceModelAlias& a) {
  if (a.name.empty() || a.model.empty()) return InvalidArgument("a model alias needs a name and a model");
  workspace_aliases_[Key({a.workspace, a.provider, a.name})] = a.model;
  return Status::Ok();
}

const PriceEntry* PriceBook::FindFor(std::string_view workspace, std::string_view provider,
                                     std::string_view model, TimePoint at) const {
  std::string_view resolved = model;
  if (!workspace_aliases_.empty()) {  // no key built for the common case of none
    auto alias = workspace_aliases_.find(Key({workspace, provider, model}));
    if (alias != workspace_aliases_.end()) resolved = alias->second;
  }
  auto it = overrides_.empty() ? overrides_.end() : overrides_.find(Key({workspace, provider, resolved}));
  if (it != overrides_.end()) {
    const PriceEntry* found = nullptr;
    for (const PriceEntry& e : it->second) {
      if (e.effective_from <= at) found = &e;
    }
    if (found) return found;
  }
  return Find(provider, resolved, at);
}

}  // namespace tokenmeter
