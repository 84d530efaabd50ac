// A canonical usage event for tests: an OpenAI call in environment prod for feature
// checkout.ai_summary, occurred and received at `at`. Tests set whatever else they need.
#ifndef TOKENMETER_TESTS_SUPPORT_TEST_EVENTS_H_
#define TOKENMETER_TESTS_SUPPORT_TEST_EVENTS_H_

#include <string>

#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/model/event_codec.h"
#include "tokenmeter/model/event_parser.h"
#include "tokenmeter/model/usage_event.h"

namespace tokenmeter::testing {

inline UsageEvent TestEvent(const std::string& workspace, const std::string& id,
                            const std::string& model, uint64_t input_tokens,
                            uint64_t output_tokens, TimePoint at) {
  UsageEvent e;
  e.workspace = workspace;
  e.request_id = id;
  e.provider = "openai";
  e.model = model;
  e.model_raw = model;
  e.endpoint_tag = "checkout.ai_summary";
  e.environment = "prod";
  e.input_tokens = input_tokens;
  e.output_tokens = output_tokens;
  e.occurred_at = at;
  e.received_at = at;
  return e;
}

// Every field set, optional ones included, with text that needs escaping.
inline UsageEvent FullEvent() {
  UsageEvent e;
  e.workspace = "acme";
  e.request_id = "req \"quoted\" \\ id";
  e.provider = "anthropic";
  e.model = "claude-3-5-haiku";
  e.model_raw = "Claude-3.5-Haiku";
  e.endpoint_tag = "checkout.ai_summary";
  e.prompt_version = "summarizer_v3";
  e.project_raw = "typo";
  e.environment = "staging";
  e.data_mode = DataMode::kDemo;
  e.user_id = "user-1";
  e.tenant_id = "tenant-\xc3\xa9";
  e.input_tokens = 1200;
  e.output_tokens = 450;
  e.cached_tokens = 100;
  e.cache_write_tokens = 50;
  e.cache_write_1h_tokens = 25;
  e.reasoning_tokens = 12;
  e.total_tokens = 1700;
  e.latency_ms = 820;
  e.status = CallStatus::kCancelled;
  e.estimated_cost = NanoUsd{123456789};
  e.occurred_at = *ParseRfc3339("2026-02-07T11:59:00.250Z");
  e.received_at = *ParseRfc3339("2026-02-07T12:00:00.000Z");
  e.api_key_id = "KEYID0000001";
  e.warnings = kWarnTotalTokensMismatch | kWarnUnknownProject;
  return e;
}

// A bus record in either form as canonical JSON, decoded by the processor's rules (default
// limits, the embedded normalization table); "" when it does not decode.
inline std::string BusRecordAsJson(std::string_view record) {
  static const Normalizer normalizer = *Normalizer::FromEmbeddedTable();
  static const IngestLimits limits;
  Result<UsageEvent> e = EventParser(limits, normalizer).ParseCanonical(record);
  if (!e.ok()) return "";
  std::string json;
  EncodeCanonical(*e, json);
  return json;
}

}  // namespace tokenmeter::testing

#endif  // TOKENMETER_TESTS_SUPPORT_TEST_EVENTS_H_
