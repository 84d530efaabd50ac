#include "bench_events.h"

#include <cstdio>
#include <iterator>

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

// A cheap mix so neighbouring ids do not share every dimension.
uint64_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
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
  char buf[512];
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
  return s;
}

void AppendBusRecord(const StreamShape& s, const UsageEvent& e, std::string& out) {
  if (s.json_records) {
    EncodeCanonical(e, out);
  } else {
    EncodeBusRecord(e, out);
  }
}

}  // namespace tokenmeter::bench
