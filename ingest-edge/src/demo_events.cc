#include "demo_events.h"

#include <array>
#include <chrono>

namespace tokenmeter {
namespace {

struct Call {
  const char* feature;
  const char* prompt;
  const char* provider;
  const char* model;
  TokenCount input, output;
  uint32_t latency_ms;
};

// Each feature's calls; summarizer_v4 is the costlier deploy (longer prompts, a bigger model).
constexpr std::array<Call, 8> kCalls = {{
    {"support.chat", "chat_v7", "openai", "gpt-4o-mini", 900, 250, 820},
    {"support.chat", "chat_v7", "anthropic", "claude-3-5-haiku", 700, 300, 950},
    {"checkout.ai_summary", "summarizer_v3", "openai", "gpt-4o-mini", 1200, 180, 640},
    {"checkout.ai_summary", "summarizer_v4", "openai", "gpt-4.1", 2600, 220, 1450},
    {"search.rerank", "rerank_v2", "google", "gemini-2.0-flash", 1500, 40, 310},
    {"docs.qa", "qa_v1", "anthropic", "claude-3-7-sonnet", 3200, 600, 2300},
    {"docs.qa", "qa_v1", "openai", "gpt-4.1", 2800, 450, 1900},
    {"search.rerank", "rerank_v2", "google", "gemini-2.0-flash", 1100, 30, 280},
}};
constexpr std::array<const char*, 6> kUsers = {"u-ada", "u-grace", "u-linus", "u-barbara", "u-ken", "u-margaret"};
constexpr std::array<const char*, 3> kTenants = {"acme-corp", "globex", "initech"};
constexpr int kEvents = 48;

}  // namespace

void DemoEvents(const std::string& workspace, const std::string& api_key_id, TimePoint now,
                std::vector<UsageEvent>& out) {
  out.clear();
  const std::string batch = "demo-" + std::to_string(now.time_since_epoch().count()) + "-";
  for (int i = 0; i < kEvents; ++i) {
    const Call& c = kCalls[static_cast<size_t>(i * 5 + i / 8) % kCalls.size()];
    UsageEvent e;
    e.workspace = workspace;
    e.request_id = batch + std::to_string(i);
    e.provider = c.provider;
    e.model = c.model;
    e.model_raw = c.model;
    e.endpoint_tag = c.feature;
    e.prompt_version = c.prompt;
    e.environment = "dev";
    e.data_mode = DataMode::kDemo;
    e.user_id = kUsers[static_cast<size_t>(i * 7) % kUsers.size()];
    e.tenant_id = kTenants[static_cast<size_t>(i) % kTenants.size()];
    // Token counts and latency vary a little per call around the feature's shape.
    e.input_tokens = c.input + static_cast<TokenCount>((i * 37) % 200);
    e.output_tokens = c.output + static_cast<TokenCount>((i * 13) % 60);
    e.latency_ms = c.latency_ms + static_cast<uint32_t>((i * 53) % 300);
    e.status = i % 16 == 7 ? CallStatus::kError : CallStatus::kSuccess;
    // Spread over the six hours before now, newest last.
    e.occurred_at = now - std::chrono::minutes((kEvents - 1 - i) * 360 / kEvents);
    e.received_at = now;
    e.api_key_id = api_key_id;
    out.push_back(std::move(e));
  }
  // Two client retries: the same calls sent again.
  out.push_back(out[5]);
  out.push_back(out[30]);
}

}  // namespace tokenmeter
