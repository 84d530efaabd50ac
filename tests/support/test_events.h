// A canonical usage event for tests: an OpenAI call in environment prod for feature
// checkout.ai_summary, occurred and received at `at`. Tests set whatever else they need.
#ifndef TOKENMETER_TESTS_SUPPORT_TEST_EVENTS_H_
#define TOKENMETER_TESTS_SUPPORT_TEST_EVENTS_H_

#include <string>

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

}  // namespace tokenmeter::testing

#endif  // TOKENMETER_TESTS_SUPPORT_TEST_EVENTS_H_
