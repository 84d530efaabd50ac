#include "bench_events.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iterator>

#include "tokenmeter/base/rfc3339.h"

#include "tokenmeter/model/event_codec.h"

namespace tokenmeter::bench {
namespace {

struct Call {
  const char* provider;
  const char* model;
};
constexpr Call kCalls[] = {{"openai", "gpt-4o-mini"}, {"openai", "gpt-4.1"},
                           {"anthropic", "claude-3-5-haiku"}, {"google", "gemini-2.0-flash"}};
constexpr const char* kEndpoints[] = {"checkout.summary", "search.rerank", "support.reply",
                                      "docs.qa", "mail.draft", "code.review", "chat", "tagging"};
constexpr const char* kPrompts[] = {"v1", "v2", "v3"};

// The realistic shape's 50 models, each priced in the embedded catalog.
constexpr Call kRealisticModels[] = {
    {"anthropic", "claude-3-5-haiku-20241022"},
    {"anthropic", "claude-3-7-sonnet-20250219"},
    {"anthropic", "claude-3-haiku-20240307"},
    {"anthropic", "claude-3-opus-20240229"},
    {"anthropic", "claude-4-opus-20250514"},
    {"anthropic", "claude-4-sonnet-20250514"},
    {"anthropic", "claude-fable-5"},
    {"anthropic", "claude-haiku-4-5"},
    {"anthropic", "claude-haiku-4-5-20251001"},
    {"anthropic", "claude-opus-4-1"},
    {"google", "gemini-2.0-flash"},
    {"google", "gemini-2.0-flash-001"},
    {"google", "gemini-2.0-flash-lite"},
    {"google", "gemini-2.0-flash-lite-001"},
    {"google", "gemini-2.5-computer-use-preview-10-2025"},
    {"google", "gemini-2.5-flash"},
    {"google", "gemini-2.5-flash-lite"},
    {"google", "gemini-2.5-flash-lite-preview-06-17"},
    {"google", "gemini-2.5-flash-lite-preview-09-2025"},
    {"google", "gemini-2.5-flash-native-audio-latest"},
    {"mistral", "codestral-2405"},
    {"mistral", "codestral-2508"},
    {"mistral", "codestral-latest"},
    {"mistral", "codestral-mamba-latest"},
    {"mistral", "devstral-2512"},
    {"openai", "babbage-002"},
    {"openai", "chatgpt-4o-latest"},
    {"openai", "codex-mini-latest"},
    {"openai", "davinci-002"},
    {"openai", "gpt-3.5-turbo"},
    {"openai", "gpt-3.5-turbo-0125"},
    {"openai", "gpt-3.5-turbo-1106"},
    {"openai", "gpt-3.5-turbo-16k"},
    {"openai", "gpt-3.5-turbo-instruct"},
    {"openai", "gpt-3.5-turbo-instruct-0914"},
    {"openai", "gpt-4"},
    {"openai", "gpt-4-0125-preview"},
    {"openai", "gpt-4-0314"},
    {"openai", "gpt-4-0613"},
    {"openai", "gpt-4-1106-preview"},
    {"openai", "gpt-4-turbo"},
    {"openai", "gpt-4-turbo-2024-04-09"},
    {"openai", "gpt-4-turbo-preview"},
    {"openai", "gpt-4.1"},
    {"openai", "gpt-4.1-2025-04-14"},
    {"xai", "grok-2"},
    {"xai", "grok-2-1212"},
    {"xai", "grok-2-latest"},
    {"xai", "grok-2-vision"},
    {"xai", "grok-2-vision-1212"}};
constexpr const char* kEnvironments[] = {"prod", "prod", "prod", "prod", "prod", "prod", "prod", "prod",
                                         "staging", "dev"};

// A cheap mix so neighbouring ids do not share every dimension.
uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

// A value in [0, n) from 32 bits of `h`, skewed: index i is drawn with density ~ 1/sqrt(i),
// so a few values carry most calls and the tail is still reached.
uint64_t Skewed(uint64_t h, uint64_t n) {
  const double u = static_cast<double>(h & 0xffffffffull) / 4294967296.0;
  return std::min<uint64_t>(n - 1, static_cast<uint64_t>(static_cast<double>(n) * u * u));
}

UsageEvent RealisticEvent(const StreamShape& s, uint64_t n) {
  const uint64_t a = Mix(n * 4 + 1), b = Mix(n * 4 + 2), c = Mix(n * 4 + 3);
  const Call& call = kRealisticModels[Skewed(a, std::size(kRealisticModels))];
  char buf[32];
  UsageEvent e;
  e.workspace = "bench";
  e.request_id = s.prefix + "-" + std::to_string(n);
  e.provider = call.provider;
  e.model = call.model;
  e.model_raw = call.model;
  std::snprintf(buf, sizeof(buf), "feature-%03d", static_cast<int>(Skewed(a >> 32, 500)));
  e.endpoint_tag = buf;
  std::snprintf(buf, sizeof(buf), "pv-%03d", static_cast<int>(Skewed(b, 100)));
  e.prompt_version = buf;
  std::snprintf(buf, sizeof(buf), "project-%d", static_cast<int>(Skewed(b >> 32, 5)) + 1);
  e.project = buf;
  e.environment = kEnvironments[c % std::size(kEnvironments)];
  std::snprintf(buf, sizeof(buf), "user-%05d", static_cast<int>(Skewed(c >> 8, 100000)));
  e.user_id = buf;
  std::snprintf(buf, sizeof(buf), "tenant-%03d", static_cast<int>(Skewed(Mix(c), 1000)));
  e.tenant_id = buf;
  e.input_tokens = 100 + (a >> 44) % 4000;
  e.output_tokens = 20 + (b >> 50) % 1000;
  e.latency_ms = static_cast<uint32_t>(200 + (c >> 40) % 4000);
  e.status = (c % 40 == 0) ? CallStatus::kError : CallStatus::kSuccess;
  const int64_t step = s.events ? s.span_ms / static_cast<int64_t>(s.events) : 0;
  e.occurred_at = TimePoint(std::chrono::milliseconds(s.start_ms + static_cast<int64_t>(n) * std::max<int64_t>(step, 1)));
  e.received_at = e.occurred_at;
  e.api_key_id = "tm_bench";
  return e;
}

}  // namespace

uint64_t LogicalIndex(const StreamShape& s, uint64_t seq) {
  if (s.duplicate_every <= 0) return seq;
  uint64_t k = static_cast<uint64_t>(s.duplicate_every);
  uint64_t round = seq / k, pos = seq % k;
  // Positions 0..k-2 of each round are new ids; the last repeats one from a few events
  // earlier (a retry within milliseconds to seconds).
  uint64_t fresh = round * (k - 1);
  if (pos + 1 < k) return fresh + pos;
  return fresh + (Mix(seq) % (k - 1));
}

std::string WorkspaceOf(const StreamShape& s, uint64_t n) {
  if (s.workspaces <= 1) return "bench";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "bench%02d", static_cast<int>(n % static_cast<uint64_t>(s.workspaces)));
  return buf;
}

UsageEvent CanonicalEvent(const StreamShape& s, uint64_t n) {
  if (s.realistic) return RealisticEvent(s, n);
  uint64_t h = Mix(n + 1);
  const Call& call = kCalls[h % std::size(kCalls)];
  UsageEvent e;
  e.workspace = WorkspaceOf(s, n);
  e.request_id = s.prefix + "-" + std::to_string(n);
  e.provider = call.provider;
  e.model = call.model;
  e.model_raw = call.model;
  e.endpoint_tag = kEndpoints[(h >> 8) % std::size(kEndpoints)];
  e.prompt_version = kPrompts[(h >> 16) % std::size(kPrompts)];
  e.environment = "prod";
  e.user_id = "u" + std::to_string((h >> 20) % 1000);
  e.tenant_id = "t" + std::to_string((h >> 32) % 50);
  e.input_tokens = 200 + (h >> 40) % 3000;
  e.output_tokens = 50 + (h >> 48) % 800;
  e.latency_ms = static_cast<uint32_t>(300 + (h >> 24) % 2000);
  e.status = (h % 50 == 0) ? CallStatus::kError : CallStatus::kSuccess;
  e.occurred_at = TimePoint(std::chrono::milliseconds(s.start_ms + static_cast<int64_t>(n)));
  e.received_at = e.occurred_at;
  e.api_key_id = "tm_bench";
  return e;
}

void AppendIngestEvent(const StreamShape& s, uint64_t n, std::string& out) {
  UsageEvent e = CanonicalEvent(s, n);
  char buf[640];
  if (s.realistic) {
    int len = std::snprintf(
        buf, sizeof(buf),
        "{\"externalRequestId\":\"%s\",\"timestamp\":\"%s\",\"provider\":\"%s\",\"model\":\"%s\","
        "\"endpointTag\":\"%s\",\"promptVersion\":\"%s\",\"project\":\"%s\",\"environment\":\"%s\","
        "\"userId\":\"%s\",\"tenantId\":\"%s\",\"inputTokens\":%llu,\"outputTokens\":%llu,\"latencyMs\":%u,"
        "\"status\":\"%s\"}",
        e.request_id.c_str(), FormatRfc3339(e.occurred_at).c_str(), e.provider.c_str(), e.model.c_str(),
        e.endpoint_tag.c_str(), e.prompt_version.c_str(), e.project.c_str(), e.environment.c_str(),
        e.user_id.c_str(), e.tenant_id.c_str(), static_cast<unsigned long long>(e.input_tokens),
        static_cast<unsigned long long>(e.output_tokens), *e.latency_ms,
        e.status == CallStatus::kSuccess ? "success" : "error");
    out.append(buf, static_cast<size_t>(len));
    return;
  }
  int len = std::snprintf(
      buf, sizeof(buf),
      "{\"externalRequestId\":\"%s\",\"provider\":\"%s\",\"model\":\"%s\",\"endpointTag\":\"%s\","
      "\"promptVersion\":\"%s\",\"userId\":\"%s\",\"tenantId\":\"%s\",\"inputTokens\":%llu,"
      "\"outputTokens\":%llu,\"latencyMs\":%u,\"status\":\"%s\"}",
      e.request_id.c_str(), e.provider.c_str(), e.model.c_str(), e.endpoint_tag.c_str(),
      e.prompt_version.c_str(), e.user_id.c_str(), e.tenant_id.c_str(),
      static_cast<unsigned long long>(e.input_tokens), static_cast<unsigned long long>(e.output_tokens),
      *e.latency_ms, e.status == CallStatus::kSuccess ? "success" : "error");
  out.append(buf, static_cast<size_t>(len));
}

StreamShape ShapeFrom(const Args& a) {
  StreamShape s;
  s.prefix = a.Str("prefix", "b");
  s.workspaces = static_cast<int>(a.Num("workspaces", 16));
  s.duplicate_every = static_cast<int>(a.Num("duplicate-every", 0));
  s.start_ms = static_cast<int64_t>(a.Num("start-ms", 1795000000000.0));
  s.json_records = a.Str("record", "binary") == "json";
  if (a.Str("shape", "simple") == "realistic") {
    s.realistic = true;
    s.workspaces = 1;
    s.events = static_cast<uint64_t>(a.Num("events", 1000000));
    s.span_ms = static_cast<int64_t>(a.Num("span-days", 30) * 86400000.0);
    const double now_ms = static_cast<double>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    s.start_ms = static_cast<int64_t>(a.Num("end-ms", now_ms)) - s.span_ms;
  }
  return s;
}

void AppendEventCsv(const UsageEvent& e, int64_t cost_nano, std::string& out) {
  char buf[512];
  int len = std::snprintf(buf, sizeof(buf), "%s,%lld,%s,%s,%s,%s,%s,%s,%s,%s,%llu,%llu,%s,%u,%lld\n",
                          e.request_id.c_str(),
                          static_cast<long long>(e.occurred_at.time_since_epoch().count()), e.provider.c_str(),
                          e.model.c_str(), e.endpoint_tag.c_str(), e.prompt_version.c_str(), e.project.c_str(),
                          e.environment.c_str(), e.user_id.c_str(), e.tenant_id.c_str(),
                          static_cast<unsigned long long>(e.input_tokens),
                          static_cast<unsigned long long>(e.output_tokens),
                          e.status == CallStatus::kSuccess ? "success" : "error", e.latency_ms.value_or(0),
                          static_cast<long long>(cost_nano));
  out.append(buf, static_cast<size_t>(len));
}

void AppendBusRecord(const StreamShape& s, const UsageEvent& e, std::string& out) {
  if (s.json_records) {
    EncodeCanonical(e, out);
  } else {
    EncodeBusRecord(e, out);
  }
}

}  // namespace tokenmeter::bench
