#include "tokenmeter/model/normalizer.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <atomic>

namespace tokenmeter {

// Defined in the generated normalization_table.cc (from data/normalization.json).
extern const char* const kNormalizationTableJson;

namespace {

// `s` without surrounding blanks, ASCII letters lowercased, into `out` (replaced).
void LowerTrim(std::string_view s, std::string& out) {
  out.clear();
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return;
  size_t e = s.find_last_not_of(" \t");
  out.assign(s.substr(b, e - b + 1));
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

std::string LowerTrim(std::string_view s) {
  std::string out;
  LowerTrim(s, out);
  return out;
}

// The last few raw names a thread normalized, with their results, per kind (providers,
// models); replaced round-robin. Entries name the table they came from, so a thread that
// uses two tables never takes one's result for the other's.
class Memo {
 public:
  // Sets `out` to the result remembered for `raw` from `table`, or to what
  // `compute(raw, out)` makes of it, which is then remembered.
  template <typename Compute>
  void Answer(uint64_t table, std::string_view raw, std::string& out, Compute compute) {
    for (const Entry& e : entries_) {
      if (e.table == table && e.raw == raw) {
        out.assign(e.result);
        return;
      }
    }
    compute(raw, out);
    if (raw.size() > kMaxRawBytes) return;  // a long name is rare: not kept
    Entry& e = entries_[next_];
    next_ = (next_ + 1) % entries_.size();
    e.table = table;
    e.raw.assign(raw);
    e.result.assign(out);
  }

 private:
  static constexpr size_t kMaxRawBytes = 64;
  struct Entry {
    uint64_t table = 0;  // 0: empty (table ids start at 1)
    std::string raw;
    std::string result;
  };
  std::array<Entry, 8> entries_;
  size_t next_ = 0;
};

thread_local Memo provider_memo;
thread_local Memo model_memo;

}  // namespace

uint64_t Normalizer::NextId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

Result<Normalizer> Normalizer::FromEmbeddedTable() { return FromJson(kNormalizationTableJson); }

Result<Normalizer> Normalizer::FromJson(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return InvalidArgument("normalization table is not a JSON object");
  }
  Normalizer n;
  auto read_map = [&](const char* name,
                      Aliases& out) -> Status {
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
  std::string p;
  Provider(raw, p);
  return p;
}

void Normalizer::Provider(std::string_view raw, std::string& out) const {
  provider_memo.Answer(id_, raw, out,
                       [this](std::string_view r, std::string& o) { ProviderUncached(r, o); });
}

void Normalizer::ProviderUncached(std::string_view raw, std::string& out) const {
  LowerTrim(raw, out);
  auto it = provider_aliases_.find(std::string_view(out));
  if (it != provider_aliases_.end()) out = it->second;
}

std::string Normalizer::Model(std::string_view provider, std::string_view raw) const {
  std::string m;
  Model(provider, raw, m);
  return m;
}

// The result depends on the raw name alone (the provider is not consulted), which the memo
// relies on: keying it by provider too would be needed the day it is.
void Normalizer::Model(std::string_view /*provider*/, std::string_view raw, std::string& out) const {
  model_memo.Answer(id_, raw, out,
                    [this](std::string_view r, std::string& o) { ModelUncached(r, o); });
}

// Prefixes are removed as long as one leads ("gemini/bedrock/x" -> "x") and then an alias
// applied, until nothing changes: a normalized name normalizes to itself, so the
// processor's second look at an edge-normalized name changes nothing (found by
// tests/fuzz). The table cannot make it loop for long: a bounded number of rounds.
void Normalizer::ModelUncached(std::string_view raw, std::string& out) const {
  LowerTrim(raw, out);
  std::string previous;
  for (int round = 0; round < 8 && out != previous; ++round) {
    previous = out;
    for (bool stripped = true; stripped;) {
      stripped = false;
      for (const std::string& prefix : model_prefixes_) {
        if (out.size() > prefix.size() && out.compare(0, prefix.size(), prefix) == 0) {
          out.erase(0, prefix.size());
          stripped = true;
          break;
        }
      }
    }
    auto it = model_aliases_.find(std::string_view(out));
    if (it != model_aliases_.end()) out = it->second;
  }
}

}  // namespace tokenmeter
