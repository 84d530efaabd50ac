// Stage 2 of the event parser: the field table (every field's names in both dialects,
// its kind, whether it is required) and the rules one field's value must meet, shared by
// the JSON form's validator and the binary record's checks. Internal to tm_model. Any
// thread.
#ifndef TOKENMETER_MODEL_SRC_EVENT_FIELDS_H_
#define TOKENMETER_MODEL_SRC_EVENT_FIELDS_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "tokenmeter/model/event_parser.h"

namespace tokenmeter {


enum class Kind : uint8_t {
  kRequestId, kText, kProvider, kModel, kDataMode, kTokens, kLatency, kStatus, kCostUsd,
  kTimestamp, kWarnings, kFlag, kSchemaVersion
};

enum F : uint8_t {
  kFRequestId, kFProvider, kFModel, kFEndpointTag, kFPromptVersion, kFProject, kFEnvironment,
  kFDataMode, kFUserId, kFTenantId, kFInput, kFOutput, kFCached, kFCacheWrite, kFCacheWrite1h,
  kFReasoning, kFTotal, kFLatency, kFStatus, kFCost, kFOccurredAt,
  // Canonical-only fields.
  kFWorkspace, kFModelRaw, kFProjectRaw, kFReceivedAt, kFApiKeyId, kFWarnings,
  kFOccurredAtDefaulted, kFVersion,
  kFieldCount
};

struct FieldSpec {
  const char* canonical;
  const char* opsmeter;  // nullptr: not in that dialect
  const char* costlynx;
  Kind kind;
  bool required_ingest;
  bool required_canonical;
};

inline constexpr std::array<FieldSpec, kFieldCount> kFields = {{
    {"request_id", "externalRequestId", "requestId", Kind::kRequestId, true, true},
    {"provider", "provider", "provider", Kind::kProvider, true, true},
    {"model", "model", "model", Kind::kModel, true, true},
    {"endpoint_tag", "endpointTag", "feature", Kind::kText, false, false},
    {"prompt_version", "promptVersion", nullptr, Kind::kText, false, false},
    {"project", nullptr, "project", Kind::kText, false, false},
    {"environment", "environment", "environment", Kind::kText, false, true},
    {"data_mode", "dataMode", nullptr, Kind::kDataMode, false, true},
    {"user_id", "userId", nullptr, Kind::kText, false, false},
    {"tenant_id", "tenantId", nullptr, Kind::kText, false, false},
    {"input_tokens", "inputTokens", "inputTokens", Kind::kTokens, false, false},
    {"output_tokens", "outputTokens", "outputTokens", Kind::kTokens, false, false},
    {"cached_tokens", "cachedTokens", "cachedTokens", Kind::kTokens, false, false},
    {"cache_write_tokens", "cacheWriteTokens", "cacheWriteTokens", Kind::kTokens, false, false},
    {"cache_write_1h_tokens", "cacheWrite1hTokens", "cacheWrite1hTokens", Kind::kTokens, false,
     false},
    {"reasoning_tokens", "reasoningTokens", "reasoningTokens", Kind::kTokens, false, false},
    {"total_tokens", "totalTokens", nullptr, Kind::kTokens, false, false},
    {"latency_ms", "latencyMs", nullptr, Kind::kLatency, false, false},
    {"status", "status", nullptr, Kind::kStatus, false, false},
    {"estimated_cost_usd", nullptr, "estimatedCostUsd", Kind::kCostUsd, false, false},
    {"occurred_at", "timestamp", "timestamp", Kind::kTimestamp, false, true},
    {"workspace", nullptr, nullptr, Kind::kText, false, true},
    {"model_raw", nullptr, nullptr, Kind::kText, false, false},
    {"project_raw", nullptr, nullptr, Kind::kText, false, false},
    {"received_at", nullptr, nullptr, Kind::kTimestamp, false, true},
    {"api_key_id", nullptr, nullptr, Kind::kText, false, false},
    {"warnings", nullptr, nullptr, Kind::kWarnings, false, false},
    {"occurred_at_defaulted", nullptr, nullptr, Kind::kFlag, false, false},
    {"v", nullptr, nullptr, Kind::kSchemaVersion, false, true},
}};

struct NameRef {
  uint8_t field;
  uint8_t variant;  // 0 = first name, 1 = the other dialect's name
};

// Name lookup for one dialect: an open-addressed table with a cheap hash of the length
// and three bytes (a lookup per member of every event; std::hash over the whole name was
// ~2k instructions an event). Built once; read-only afterwards.
class NameTable {
 public:
  explicit NameTable(Dialect d) {
    for (uint8_t f = 0; f < kFieldCount; ++f) {
      const FieldSpec& s = kFields[f];
      if (d == Dialect::kCanonical) {
        Add(s.canonical, NameRef{f, 0});
        continue;
      }
      if (s.opsmeter) Add(s.opsmeter, NameRef{f, 0});
      if (s.costlynx && (!s.opsmeter || std::strcmp(s.opsmeter, s.costlynx) != 0)) {
        Add(s.costlynx, NameRef{f, static_cast<uint8_t>(s.opsmeter ? 1 : 0)});
      }
    }
  }
  const NameRef* Find(std::string_view name) const {
    if (name.empty()) return nullptr;
    for (size_t i = Slot(name);; i = (i + 1) % kSlots) {
      const Entry& e = slots_[i];
      if (e.name.empty()) return nullptr;
      if (e.name == name) return &e.ref;
    }
  }

 private:
  // More than twice the names of a dialect, so probes stay short and an empty slot ends
  // every miss.
  static constexpr size_t kSlots = 128;
  static_assert(kSlots > 2 * 2 * kFieldCount);
  struct Entry {
    std::string_view name;
    NameRef ref{};
  };
  static size_t Slot(std::string_view s) {
    auto b = [&](size_t i) { return static_cast<size_t>(static_cast<unsigned char>(s[i])); };
    return (s.size() * 131 + b(0) * 31 + b(s.size() / 2) * 7 + b(s.size() - 1)) % kSlots;
  }
  void Add(std::string_view name, NameRef ref) {
    size_t i = Slot(name);
    while (!slots_[i].name.empty()) {
      if (slots_[i].name == name) return;  // the first spelling wins, as before
      i = (i + 1) % kSlots;
    }
    slots_[i] = {name, ref};
  }
  std::array<Entry, kSlots> slots_{};
};

const NameTable& Names(Dialect d);
// The name a missing field is reported under, and the names listed in its message.
std::string MissingName(const FieldSpec& s, Dialect d);
std::string MissingMessage(const FieldSpec& s, Dialect d);

// Whether `s` (valid UTF-8) holds a control character: a byte below 0x20 or 0x7f, a C1
// control (U+0080-U+009F), or a line or paragraph separator (U+2028, U+2029).
bool HasControlChar(std::string_view s);
// Sets the warning when total_tokens is given and is not input + output (both forms).
void MarkTotalTokensMismatch(UsageEvent& e);
// The rules for a text field and for the request id: "" when `s` passes, else what is
// wrong with it.
std::string TextProblem(std::string_view s, size_t max_bytes);
std::string RequestIdProblem(std::string_view s, size_t max_bytes);
// A JSON integer's text as a count; nullopt for anything else.
std::optional<uint64_t> ParseUint(std::string_view text);

}  // namespace tokenmeter

#endif  // TOKENMETER_MODEL_SRC_EVENT_FIELDS_H_
