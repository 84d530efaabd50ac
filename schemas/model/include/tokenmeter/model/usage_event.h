// UsageEvent: the canonical form of one LLM call's usage, as it travels on the bus.
//
// The edge builds it from either ingest dialect (event_parser.h); the processor decodes it
// from the bus (event_codec.h) and validates it again. Plain value type.
#ifndef TOKENMETER_MODEL_USAGE_EVENT_H_
#define TOKENMETER_MODEL_USAGE_EVENT_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "tokenmeter/base/clock.h"
#include "tokenmeter/base/units.h"

namespace tokenmeter {

enum class DataMode : uint8_t { kReal, kTest, kDemo };
enum class CallStatus : uint8_t { kSuccess, kError, kTimeout, kCancelled };

std::string_view DataModeName(DataMode m);
std::optional<DataMode> ParseDataMode(std::string_view s);
std::string_view CallStatusName(CallStatus s);
std::optional<CallStatus> ParseCallStatus(std::string_view s);

// Data-quality warnings: the event is accepted and counted, the flag travels with it.
enum EventWarning : uint32_t {
  kWarnTotalTokensMismatch = 1u << 0,  // totalTokens != input + output
  kWarnUnknownProject = 1u << 1,       // project slug not configured; stored unattributed
};

struct UsageEvent {
  std::string workspace;
  std::string request_id;      // idempotency key, 1-128 printable ASCII
  std::string provider;        // normalized (lowercase, aliases resolved)
  std::string model;           // normalized
  std::string model_raw;       // as the client sent it
  std::string endpoint_tag;    // empty = "unknown" in groupings
  std::string prompt_version;
  std::string project;         // empty when none or unattributed
  std::string project_raw;     // the unknown slug, when kWarnUnknownProject
  std::string environment;     // never empty after parsing (default "prod")
  DataMode data_mode = DataMode::kReal;
  std::string user_id;
  std::string tenant_id;
  TokenCount input_tokens = 0;
  TokenCount output_tokens = 0;
  TokenCount cached_tokens = 0;
  TokenCount cache_write_tokens = 0;
  TokenCount cache_write_1h_tokens = 0;
  TokenCount reasoning_tokens = 0;
  std::optional<TokenCount> total_tokens;
  std::optional<uint32_t> latency_ms;
  std::optional<CallStatus> status;
  std::optional<NanoUsd> estimated_cost;  // caller-supplied; overrides the catalog
  TimePoint occurred_at{};
  TimePoint received_at{};
  // The client gave no event time: occurred_at is the receive time. Such a time is not
  // part of what the call was, so a retry received later is still the same call.
  bool occurred_at_defaulted = false;
  std::string api_key_id;  // the key that sent it (never the secret)
  uint32_t warnings = 0;   // EventWarning bits

  friend bool operator==(const UsageEvent&, const UsageEvent&) = default;
};

// Makes `e` equal to UsageEvent{} while its strings keep their buffers, so an event
// reused for the next parse allocates nothing for strings that fit (the processor parses
// every batch into the same events, an edge I/O thread every body). Each member is reset
// by name (cheaper than assigning a new event around moved-out strings, which cost ~1,200
// instructions an event): a member added to UsageEvent must be added here too
// (`unit.schemas` checks that a fully set event comes back equal to UsageEvent{}).
inline void ClearKeepingCapacity(UsageEvent& e) {
  for (std::string* s : {&e.workspace, &e.request_id, &e.provider, &e.model, &e.model_raw,
                         &e.endpoint_tag, &e.prompt_version, &e.project, &e.project_raw,
                         &e.environment, &e.user_id, &e.tenant_id, &e.api_key_id}) {
    s->clear();
  }
  e.data_mode = DataMode::kReal;
  e.input_tokens = e.output_tokens = e.cached_tokens = 0;
  e.cache_write_tokens = e.cache_write_1h_tokens = e.reasoning_tokens = 0;
  e.total_tokens.reset();
  e.latency_ms.reset();
  e.status.reset();
  e.estimated_cost.reset();
  e.occurred_at = e.received_at = TimePoint{};
  e.occurred_at_defaulted = false;
  e.warnings = 0;
}

}  // namespace tokenmeter

#endif  // TOKENMETER_MODEL_USAGE_EVENT_H_
