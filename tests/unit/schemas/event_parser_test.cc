// The ingest contract (DESIGN.md "Ingest contract"): fixtures of both dialects, every
// validation rule with a passing and a failing case, and whole-body rejections.
#include "tokenmeter/model/event_parser.h"

#include <gtest/gtest.h>

#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {
namespace {

using namespace std::chrono_literals;

const TimePoint kNow = *ParseRfc3339("2026-02-07T12:00:00.000Z");

class EventParserTest : public ::testing::Test {
 protected:
  EventParserTest() : normalizer_(*Normalizer::FromEmbeddedTable()), parser_(limits_, normalizer_) {
    ctx_.workspace = "acme";
    ctx_.api_key_id = "KEYID0000001";
    ctx_.received_at = kNow;
  }

  ParsedBody Parse(std::string body) { return parser_.ParseIngest(body, ctx_); }

  // Parses one event expected to be valid.
  UsageEvent One(const std::string& body) {
    ParsedBody p = Parse(body);
    EXPECT_EQ(p.body_error, BodyError::kNone) << p.body_message;
    EXPECT_TRUE(p.errors.empty()) << (p.errors.empty() ? "" : p.errors[0].field + " " + p.errors[0].message);
    EXPECT_EQ(p.events.size(), 1u);
    return p.events.empty() ? UsageEvent{} : p.events[0];
  }

  // Parses one event expected to be invalid with exactly this error.
  void ExpectError(const std::string& body, const std::string& field, const std::string& message) {
    ParsedBody p = Parse(body);
    ASSERT_EQ(p.body_error, BodyError::kNone) << p.body_message;
    EXPECT_TRUE(p.events.empty()) << body;
    ASSERT_EQ(p.errors.size(), 1u) << body;
    EXPECT_EQ(p.errors[0], (FieldError{0, field, message})) << body << " -> " << p.errors[0].field
                                                            << ": " << p.errors[0].message;
  }

  IngestLimits limits_;
  Normalizer normalizer_;
  EventParser parser_;
  IngestContext ctx_;
};

// Builds an Opsmeter-style event with one extra member appended (raw JSON text).
std::string Ops(const std::string& extra = "") {
  std::string s = R"({"externalRequestId":"r-1","provider":"openai","model":"gpt-4o-mini")";
  if (!extra.empty()) s += "," + extra;
  return s + "}";
}

TEST_F(EventParserTest, OpsmeterFixtureParsesToCanonicalEvent) {
  UsageEvent e = One(
      R"({"externalRequestId":"req_2026_02_07_001","provider":"openai","model":"gpt-4o-mini","promptVersion":"summarizer_v3","endpointTag":"checkout.ai_summary","inputTokens":120,"outputTokens":45,"totalTokens":165,"latencyMs":820,"status":"success","dataMode":"real","environment":"prod"})");
  UsageEvent want;
  want.workspace = "acme";
  want.request_id = "req_2026_02_07_001";
  want.provider = "openai";
  want.model = "gpt-4o-mini";
  want.model_raw = "gpt-4o-mini";
  want.prompt_version = "summarizer_v3";
  want.endpoint_tag = "checkout.ai_summary";
  want.environment = "prod";
  want.data_mode = DataMode::kReal;
  want.input_tokens = 120;
  want.output_tokens = 45;
  want.total_tokens = 165;
  want.latency_ms = 820;
  want.status = CallStatus::kSuccess;
  want.occurred_at = kNow;
  want.received_at = kNow;
  want.occurred_at_defaulted = true;  // no "timestamp": the receive time stands in
  want.api_key_id = "KEYID0000001";
  EXPECT_EQ(e, want);
}

TEST_F(EventParserTest, CostLynxFixtureParsesToCanonicalEvent) {
  UsageEvent e = One(
      R"({"provider":"openai","model":"gpt-4o-mini","inputTokens":850,"outputTokens":320,"requestId":"test-integration-001","project":"customer-support","environment":"staging","feature":"ticket-classifier"})");
  EXPECT_EQ(e.request_id, "test-integration-001");
  EXPECT_EQ(e.project, "customer-support");
  EXPECT_EQ(e.environment, "staging");
  EXPECT_EQ(e.endpoint_tag, "ticket-classifier");
  EXPECT_EQ(e.input_tokens, 850u);
  EXPECT_EQ(e.output_tokens, 320u);
  EXPECT_EQ(e.data_mode, DataMode::kReal);
  EXPECT_FALSE(e.status.has_value());
  EXPECT_FALSE(e.total_tokens.has_value());
}

TEST_F(EventParserTest, CostLynxBatchFixtureParsesBothEvents) {
  ParsedBody p = Parse(
      R"({"events":[{"provider":"openai","model":"gpt-4.1","inputTokens":1200,"outputTokens":450,"requestId":"chatcmpl-abc123","project":"document-processing","environment":"prod","feature":"contract-analysis"},{"provider":"anthropic","model":"claude-3-5-haiku","inputTokens":600,"outputTokens":180,"requestId":"msg_xyz456","project":"document-processing","environment":"prod","feature":"classification"}]})");
  ASSERT_EQ(p.events.size(), 2u);
  EXPECT_EQ(p.event_count, 2u);
  EXPECT_EQ(p.events[0].request_id, "chatcmpl-abc123");
  EXPECT_EQ(p.events[0].model, "gpt-4.1");
  EXPECT_EQ(p.events[0].endpoint_tag, "contract-analysis");
  EXPECT_EQ(p.events[1].request_id, "msg_xyz456");
  EXPECT_EQ(p.events[1].provider, "anthropic");
  EXPECT_EQ(p.events[1].input_tokens, 600u);
  EXPECT_EQ(p.event_index, (std::vector<size_t>{0, 1}));
}

TEST_F(EventParserTest, GeminiProviderNormalizesToGoogle) {
  UsageEvent e = One(
      R"({"provider":"gemini","model":"gemini-2.0-flash","inputTokens":900,"outputTokens":200,"requestId":"6f1c2d3e-0000-4000-8000-000000000001","feature":"search.summarize"})");
  EXPECT_EQ(e.provider, "google");
  EXPECT_EQ(e.model, "gemini-2.0-flash");
  EXPECT_EQ(e.endpoint_tag, "search.summarize");
}

TEST_F(EventParserTest, BothDialectsOfTheSameCallGiveTheSameCanonicalEvent) {
  UsageEvent ops = One(
      R"({"externalRequestId":"call-7","provider":"OpenAI","model":"gpt-4o-mini","endpointTag":"support.reply","inputTokens":850,"outputTokens":320,"cachedTokens":100,"environment":"staging","timestamp":"2026-02-07T11:59:00Z"})");
  UsageEvent lynx = One(
      R"({"requestId":"call-7","provider":"openai","model":"gpt-4o-mini","feature":"support.reply","inputTokens":850,"outputTokens":320,"cachedTokens":100,"environment":"staging","timestamp":"2026-02-07T11:59:00Z"})");
  EXPECT_EQ(ops, lynx);
  EXPECT_EQ(ops.occurred_at, *ParseRfc3339("2026-02-07T11:59:00Z"));
}

TEST_F(EventParserTest, SameFieldUnderBothNamesWithEqualValuesIsAccepted) {
  UsageEvent e = One(R"({"externalRequestId":"same","requestId":"same","provider":"openai","model":"m","endpointTag":"f","feature":"f"})");
  EXPECT_EQ(e.request_id, "same");
  EXPECT_EQ(e.endpoint_tag, "f");
}

TEST_F(EventParserTest, SameFieldUnderBothNamesWithDifferentValuesIsRejected) {
  ExpectError(R"({"externalRequestId":"a","requestId":"b","provider":"openai","model":"m"})",
              "requestId", "conflicts with externalRequestId");
  ExpectError(Ops(R"("endpointTag":"x","feature":"y")"), "feature", "conflicts with endpointTag");
}

TEST_F(EventParserTest, RequestIdRules) {
  EXPECT_EQ(One(Ops()).request_id, "r-1");
  EXPECT_EQ(One(R"({"requestId":")" + std::string(128, 'a') + R"(","provider":"p","model":"m"})").request_id.size(), 128u);
  ExpectError(R"({"provider":"openai","model":"m"})", "externalRequestId",
              "is required (externalRequestId or requestId)");
  ExpectError(R"({"requestId":"","provider":"openai","model":"m"})", "requestId", "must not be empty");
  ExpectError(R"({"requestId":")" + std::string(129, 'a') + R"(","provider":"p","model":"m"})",
              "requestId", "must be at most 128 bytes");
  ExpectError(R"({"requestId":"a\u0001b","provider":"p","model":"m"})", "requestId",
              "must contain only printable ASCII characters");
  ExpectError(R"({"requestId":"caf\u00e9","provider":"p","model":"m"})", "requestId",
              "must contain only printable ASCII characters");
  ExpectError(R"({"requestId":42,"provider":"p","model":"m"})", "requestId", "must be a string");
}

TEST_F(EventParserTest, ProviderAndModelRules) {
  ExpectError(R"({"requestId":"r","model":"m"})", "provider", "is required");
  ExpectError(R"({"requestId":"r","provider":"openai"})", "model", "is required");
  ExpectError(R"({"requestId":"r","provider":["openai"],"model":"m"})", "provider", "must be a string");
  ExpectError(R"({"requestId":"r","provider":"   ","model":"m"})", "provider", "must not be empty");
  ExpectError(R"({"requestId":"r","provider":")" + std::string(65, 'p') + R"(","model":"m"})",
              "provider", "must be at most 64 bytes");
  UsageEvent e = One(R"({"requestId":"r","provider":" Azure ","model":"OpenAI/GPT-4o"})");
  EXPECT_EQ(e.provider, "azure_openai");
  EXPECT_EQ(e.model, "gpt-4o");
  EXPECT_EQ(e.model_raw, "OpenAI/GPT-4o");
}

TEST_F(EventParserTest, TokenRules) {
  UsageEvent e = One(Ops(R"("inputTokens":0,"outputTokens":1000000000,"cacheWriteTokens":5,"cacheWrite1hTokens":6,"reasoningTokens":7)"));
  EXPECT_EQ(e.output_tokens, 1000000000u);
  EXPECT_EQ(e.cache_write_tokens, 5u);
  EXPECT_EQ(e.cache_write_1h_tokens, 6u);
  EXPECT_EQ(e.reasoning_tokens, 7u);
  ExpectError(Ops(R"("inputTokens":-1)"), "inputTokens", "must be a non-negative integer");
  ExpectError(Ops(R"("inputTokens":1.5)"), "inputTokens", "must be a non-negative integer");
  ExpectError(Ops(R"("inputTokens":1e3)"), "inputTokens", "must be a non-negative integer");
  ExpectError(Ops(R"("inputTokens":"120")"), "inputTokens", "must be a non-negative integer");
  ExpectError(Ops(R"("outputTokens":1000000001)"), "outputTokens", "must be at most 1000000000");
  ExpectError(Ops(R"("cachedTokens":9223372036854775808)"), "cachedTokens", "must be at most 1000000000");
  ExpectError(Ops(R"("reasoningTokens":true)"), "reasoningTokens", "must be a non-negative integer");
}

TEST_F(EventParserTest, TotalTokensMismatchIsAWarningNotAnError) {
  EXPECT_EQ(One(Ops(R"("inputTokens":10,"outputTokens":5,"totalTokens":15)")).warnings, 0u);
  UsageEvent e = One(Ops(R"("inputTokens":10,"outputTokens":5,"totalTokens":16)"));
  EXPECT_EQ(e.warnings, static_cast<uint32_t>(kWarnTotalTokensMismatch));
  EXPECT_EQ(e.total_tokens, 16u);
}

TEST_F(EventParserTest, LatencyRules) {
  EXPECT_EQ(One(Ops(R"("latencyMs":86400000)")).latency_ms, 86400000u);
  ExpectError(Ops(R"("latencyMs":86400001)"), "latencyMs", "must be at most 86400000");
  ExpectError(Ops(R"("latencyMs":-5)"), "latencyMs", "must be a non-negative integer");
}

TEST_F(EventParserTest, StatusAndDataModeRules) {
  UsageEvent e = One(Ops(R"("status":"Timeout","dataMode":"test")"));
  EXPECT_EQ(e.status, CallStatus::kTimeout);
  EXPECT_EQ(e.data_mode, DataMode::kTest);
  ExpectError(Ops(R"("status":"ok")"), "status", "must be one of success, error, timeout, cancelled");
  ExpectError(Ops(R"("dataMode":"prod")"), "dataMode", "must be one of real, test, demo");
}

TEST_F(EventParserTest, EstimatedCostIsExactNanoUsd) {
  EXPECT_EQ(One(Ops(R"("estimatedCostUsd":0.000123)")).estimated_cost, NanoUsd{123000});
  EXPECT_EQ(One(Ops(R"("estimatedCostUsd":"12.5")")).estimated_cost, NanoUsd{12500000000});
  // Beyond nano-USD: rounded once, half to even.
  EXPECT_EQ(One(Ops(R"("estimatedCostUsd":0.0000000025)")).estimated_cost, NanoUsd{2});
  EXPECT_EQ(One(Ops(R"("estimatedCostUsd":0.0000000035)")).estimated_cost, NanoUsd{4});
  const char* msg = "must be a non-negative decimal amount of USD, at most 1000000";
  ExpectError(Ops(R"("estimatedCostUsd":-0.01)"), "estimatedCostUsd", msg);
  ExpectError(Ops(R"("estimatedCostUsd":1e-3)"), "estimatedCostUsd", msg);
  ExpectError(Ops(R"("estimatedCostUsd":1000000.000000001)"), "estimatedCostUsd", msg);
  ExpectError(Ops(R"("estimatedCostUsd":"cheap")"), "estimatedCostUsd", msg);
}

TEST_F(EventParserTest, TimestampRules) {
  EXPECT_EQ(One(Ops(R"("timestamp":"2026-02-07T13:00:00+02:00")")).occurred_at,
            *ParseRfc3339("2026-02-07T11:00:00Z"));
  EXPECT_EQ(One(Ops(R"("timestamp":"2026-02-07T12:05:00Z")")).occurred_at,
            *ParseRfc3339("2026-02-07T12:05:00Z"));
  EXPECT_EQ(One(Ops()).occurred_at, kNow);
  EXPECT_TRUE(One(Ops()).occurred_at_defaulted);
  EXPECT_FALSE(One(Ops(R"("timestamp":"2026-02-07T12:00:00Z")")).occurred_at_defaulted)
      << "a given time, even the receive instant, is the client's";
  ExpectError(Ops(R"("timestamp":"2026-02-07 noon")"), "timestamp", "must be an RFC 3339 timestamp");
  ExpectError(Ops(R"("timestamp":1770465600)"), "timestamp", "must be an RFC 3339 timestamp");
  ExpectError(Ops(R"("timestamp":"2026-02-07T12:05:00.001Z")"), "timestamp",
              "is more than 300 s ahead of the receive time");
  ExpectError(Ops(R"("timestamp":"2026-01-31T11:59:59Z")"), "timestamp",
              "is more than 604800 s behind the receive time");
}

TEST_F(EventParserTest, TextFieldRules) {
  UsageEvent e = One(Ops(R"("userId":"u1","tenantId":"t1","promptVersion":"v3","endpointTag":"caf\u00e9")"));
  EXPECT_EQ(e.user_id, "u1");
  EXPECT_EQ(e.tenant_id, "t1");
  EXPECT_EQ(e.endpoint_tag, "caf\xc3\xa9");
  ExpectError(Ops(R"("endpointTag":")" + std::string(257, 'x') + "\""), "endpointTag",
              "must be at most 256 bytes");
  ExpectError(Ops(R"("userId":"a\nb")"), "userId", "must not contain control characters");
  // C1 controls and the Unicode line and paragraph separators, escaped or raw, anywhere in
  // a longer text: control characters too.
  for (const char* text : {R"(\u0085)", "\xc2\x85", R"(\u2028)", "\xe2\x80\xa8", R"(\u2029)",
                           "\xc2\x9f"}) {
    ExpectError(Ops(R"("endpointTag":"checkout.summary )" + std::string(text) + "\""), "endpointTag",
                "must not contain control characters");
  }
  EXPECT_EQ(One(Ops(R"("endpointTag":"caf\u00e9 \u20ac \u2027 \u00a0")")).endpoint_tag,
            "caf\xc3\xa9 \xe2\x82\xac \xe2\x80\xa7 \xc2\xa0")
      << "other non-ASCII text passes";
  ExpectError(Ops(R"("tenantId":{"id":1})"), "tenantId", "must be a string");
}

TEST_F(EventParserTest, NullMeansAbsentAndUnknownFieldsAreIgnored) {
  UsageEvent e = One(Ops(R"("endpointTag":null,"metadata":{"a":[1,2]},"sdk":"py")"));
  EXPECT_EQ(e.endpoint_tag, "");
  ExpectError(R"({"requestId":null,"provider":"p","model":"m"})", "externalRequestId",
              "is required (externalRequestId or requestId)");
}

TEST_F(EventParserTest, DuplicateKeysAreRejected) {
  ExpectError(Ops(R"("inputTokens":1,"inputTokens":1)"), "inputTokens", "duplicate key");
  ExpectError(Ops(R"("extra":1,"extra":2)"), "extra", "duplicate key");
  // Inside an unknown member too, at any depth; the same key in sibling objects is fine.
  ExpectError(Ops(R"("meta":{"a":1,"a":2})"), "", "duplicate key inside a nested member");
  ExpectError(Ops(R"("meta":{"x":[{"b":1},{"a":1,"a":1}]})"), "", "duplicate key inside a nested member");
  UsageEvent ok = One(Ops(R"("meta":[{"a":1},{"a":2}],"more":{"a":{"a":1},"b":2})"));
  EXPECT_EQ(ok.request_id, "r-1");
  // In a batch only that event is refused.
  ParsedBody p = Parse(R"({"events":[{"requestId":"e0","provider":"openai","model":"m","x":{"k":1,"k":1}},)"
                       R"({"requestId":"e1","provider":"openai","model":"m","x":{"k":1}}]})");
  EXPECT_EQ(p.event_index, (std::vector<size_t>{1}));
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0], (FieldError{0, "", "duplicate key inside a nested member"}));
}

TEST_F(EventParserTest, EnvironmentAndProjectDefaultsComeFromTheKey) {
  EXPECT_EQ(One(Ops()).environment, "prod");
  ctx_.default_environment = "staging";
  ctx_.default_project = "support";
  UsageEvent e = One(Ops());
  EXPECT_EQ(e.environment, "staging");
  EXPECT_EQ(e.project, "support");
  EXPECT_EQ(One(Ops(R"("environment":"dev","project":"billing")")).environment, "dev");
  EXPECT_EQ(One(Ops(R"("environment":"dev","project":"billing")")).project, "billing");
}

TEST_F(EventParserTest, UnknownProjectIsUnattributedOrRejectedInStrictMode) {
  std::unordered_set<std::string> projects = {"support"};
  ctx_.projects = &projects;
  EXPECT_EQ(One(Ops(R"("project":"support")")).project, "support");
  UsageEvent e = One(Ops(R"("project":"typo")"));
  EXPECT_EQ(e.project, "");
  EXPECT_EQ(e.project_raw, "typo");
  EXPECT_EQ(e.warnings, static_cast<uint32_t>(kWarnUnknownProject));
  ctx_.strict_projects = true;
  ExpectError(Ops(R"("project":"typo")"), "project", "unknown project \"typo\"");
}

TEST_F(EventParserTest, EveryViolationOfAnEventIsReported) {
  ParsedBody p = Parse(R"({"provider":"openai","inputTokens":-1,"status":"meh"})");
  ASSERT_EQ(p.errors.size(), 4u);
  EXPECT_EQ(p.errors[0].field, "externalRequestId");
  EXPECT_EQ(p.errors[1].field, "model");
  EXPECT_EQ(p.errors[2].field, "inputTokens");
  EXPECT_EQ(p.errors[3].field, "status");
}

TEST_F(EventParserTest, OneBadEventNeverRejectsItsNeighbours) {
  std::string body = R"({"events":[)";
  for (int i = 0; i < 10; ++i) {
    if (i) body += ",";
    if (i == 3) body += R"({"requestId":"e3","provider":"openai","model":"m","inputTokens":-3})";
    else if (i == 7) body += R"("not an object")";
    else body += R"({"requestId":"e)" + std::to_string(i) + R"(","provider":"openai","model":"m"})";
  }
  body += "]}";
  ParsedBody p = Parse(body);
  EXPECT_EQ(p.event_count, 10u);
  EXPECT_EQ(p.events.size(), 8u);
  EXPECT_EQ(p.event_index, (std::vector<size_t>{0, 1, 2, 4, 5, 6, 8, 9}));
  ASSERT_EQ(p.errors.size(), 2u);
  EXPECT_EQ(p.errors[0], (FieldError{3, "inputTokens", "must be a non-negative integer"}));
  EXPECT_EQ(p.errors[1], (FieldError{7, "", "event must be a JSON object"}));
}

// A number beyond a double's range (RapidJSON refuses it even as text) is that member's
// problem only: ignored in an unknown member, an error of its own event's field.
TEST_F(EventParserTest, ANumberTooBigForADoubleRejectsNoNeighbour) {
  const std::string big(400, '7');
  ParsedBody p = Parse(R"({"events":[{"requestId":"e0","provider":"openai","model":"m","meta":1e400},)"
                       R"({"requestId":"e1","provider":"openai","model":"m","inputTokens":)" + big + R"(},)"
                       R"({"requestId":"e2","provider":"openai","model":"m","outputTokens":2E+999,"x":[-1e500]}]})");
  EXPECT_EQ(p.body_error, BodyError::kNone) << p.body_message;
  EXPECT_EQ(p.event_count, 3u);
  EXPECT_EQ(p.event_index, (std::vector<size_t>{0}));
  ASSERT_EQ(p.errors.size(), 2u);
  EXPECT_EQ(p.errors[0], (FieldError{1, "inputTokens", "must be a non-negative integer"}));
  EXPECT_EQ(p.errors[1], (FieldError{2, "outputTokens", "must be a non-negative integer"}));
  EXPECT_EQ(p.events[0].request_id, "e0");
}

// A body that ends inside a multi-byte UTF-8 sequence is malformed, and its parse reads
// nothing past it (ASan in the sanitizer build; found by tests/fuzz).
TEST_F(EventParserTest, ABodyEndingInsideAUtf8SequenceIsMalformed) {
  for (std::string tail : {"\xF1", "\xF1\x80", "\xE2\x82", "\xC3"}) {
    ParsedBody p = Parse(R"({"requestId":"r","provider":"p","model":"m")" + std::string(",\"x\":\"") + tail);
    EXPECT_EQ(p.body_error, BodyError::kMalformed) << p.body_message;
  }
}

// The edge parses every body of an I/O thread into one reused ParsedBody: each parse must
// give exactly what a fresh one gives, whatever the bodies before it held (more or fewer
// events, other fields set, invalid events, a malformed body).
TEST_F(EventParserTest, AReusedBodyParsesEachBodyAsAFreshOneWould) {
  std::unordered_set<std::string> projects = {"support"};
  ctx_.projects = &projects;
  const std::string full =
      R"({"requestId":"r-full-0000000000000001","provider":"Anthropic","model":"Claude-3.5-Haiku",)"
      R"("endpoint":"checkout.ai_summary","promptVersion":"summarizer_v3","project":"typo",)"
      R"("environment":"staging","dataMode":"demo","userId":"user-0000000000000001",)"
      R"("tenantId":"tenant-000000000000001","inputTokens":1200,"outputTokens":450,)"
      R"("cachedTokens":100,"totalTokens":1650,"latencyMs":820,"status":"cancelled",)"
      R"("estimatedCostUsd":"0.123456789","occurredAt":"2026-02-07T11:59:00.250Z"})";
  const std::string small = R"({"requestId":"r-2","provider":"openai","model":"m"})";
  const std::string bad = R"({"requestId":"r-3","provider":"openai","model":"m","inputTokens":-1})";
  auto batch = [](std::initializer_list<std::string> events) {
    std::string b = R"({"events":[)";
    for (const std::string& e : events) b += (b.back() == '[' ? "" : ",") + e;
    return b + "]}";
  };
  const std::vector<std::string> bodies = {
      batch({full, full, bad, full}),  // three events kept, every field set
      small,                           // fewer: the rest move to spare
      batch({bad, small, full}),       // more again, from spare; the first slot is invalid
      R"({"events":[{"requestId":)",   // malformed: no events at all
      batch({small, small}),
      batch({bad}),  // only an invalid event
      full,
  };
  ParsedBody reused;
  for (const std::string& body : bodies) {
    std::string fresh_body = body, reused_body = body;
    const ParsedBody fresh = parser_.ParseIngest(fresh_body, ctx_);
    parser_.ParseIngest(reused_body, ctx_, reused);
    EXPECT_EQ(reused.body_error, fresh.body_error) << body;
    EXPECT_EQ(reused.body_message, fresh.body_message) << body;
    EXPECT_EQ(reused.event_count, fresh.event_count) << body;
    EXPECT_EQ(reused.events, fresh.events) << body;
    EXPECT_EQ(reused.event_index, fresh.event_index) << body;
    EXPECT_EQ(reused.errors, fresh.errors) << body;
  }
  // The last body's one event, field by field (the comparison above is only as good as the
  // fresh parse): the unknown project is kept unattributed.
  ASSERT_EQ(reused.events.size(), 1u);
  const UsageEvent& e = reused.events[0];
  EXPECT_EQ(e.request_id, "r-full-0000000000000001");
  EXPECT_EQ(e.provider, "anthropic");
  EXPECT_EQ(e.project, "");
  EXPECT_EQ(e.project_raw, "typo");
  EXPECT_EQ(e.user_id, "user-0000000000000001");
  EXPECT_EQ(e.estimated_cost, NanoUsd{123456789});
  EXPECT_EQ(e.warnings, static_cast<uint32_t>(kWarnUnknownProject));
  // Every event the largest body needed is kept, in `events` or `spare`.
  EXPECT_EQ(reused.events.size() + reused.spare.size(), 3u);
}

TEST_F(EventParserTest, TooManyFieldsRejectsTheEvent) {
  std::string extra;
  for (int i = 0; i < 62; ++i) extra += (i ? "," : "") + std::string("\"f") + std::to_string(i) + "\":1";
  EXPECT_EQ(One(Ops(extra.substr(0, extra.rfind(',')))).request_id, "r-1");  // 64 fields
  ExpectError(Ops(extra), "", "event has too many fields");                   // 65 fields
}

TEST_F(EventParserTest, WholeBodyRejections) {
  struct Case {
    std::string body;
    BodyError error;
  };
  std::string deep = R"({"a":)" + std::string(100, '[');
  std::string nested = R"({"requestId":"r","provider":"p","model":"m","x":)" + std::string(16, '[') +
                       std::string(16, ']') + "}";
  std::string many = R"({"events":[)";
  for (int i = 0; i < 1001; ++i) many += (i ? ",{}" : "{}");
  many += "]}";
  std::vector<Case> cases = {
      {"", BodyError::kMalformed},
      {R"({"requestId":"r","provider":"p")", BodyError::kMalformed},
      {R"({"requestId":"r","inputTokens":NaN})", BodyError::kMalformed},
      {"{\"requestId\":\"\xff\xfe\",\"provider\":\"p\",\"model\":\"m\"}", BodyError::kMalformed},
      {std::string("{\"requestId\":\"r\"}\0", 18) + "x", BodyError::kMalformed},
      {R"([{"requestId":"r"}])", BodyError::kNotAnObject},
      {R"("just a string")", BodyError::kNotAnObject},
      {R"({"events":{"requestId":"r"}})", BodyError::kMalformed},
      {R"({"events":[],"events":[]})", BodyError::kMalformed},
      {R"({"events":[{"requestId":"r"}],"provider":"openai"})", BodyError::kMalformed},
      {R"({"a":1} {"b":2})", BodyError::kMalformed},
      {deep, BodyError::kTooDeep},
      {nested, BodyError::kTooDeep},
      {many, BodyError::kTooManyEvents},
  };
  for (const Case& c : cases) {
    ParsedBody p = Parse(c.body);
    EXPECT_EQ(p.body_error, c.error) << c.body.substr(0, 80);
    EXPECT_FALSE(p.body_message.empty());
    EXPECT_TRUE(p.events.empty());
  }
  std::string ok_depth = R"({"requestId":"r","provider":"p","model":"m","x":)" + std::string(15, '[') +
                         std::string(15, ']') + "}";
  EXPECT_EQ(Parse(ok_depth).body_error, BodyError::kNone);  // exactly 16 levels
}

// The parser keeps its member lists per thread between bodies (capacity only): what one
// body left, even one rejected halfway or one past the kept size, must never show in the
// next one's events.
TEST_F(EventParserTest, EachBodyOnAThreadSeesOnlyItsOwnMembers) {
  auto event = [](int i, const std::string& extra) {
    return R"({"requestId":"b)" + std::to_string(i) + R"(","provider":"openai","model":"m)" +
           std::to_string(i) + "\"" + extra + "}";
  };
  // 1,000 events of 20 members each: more than the lists keep between bodies.
  std::string big = R"({"events":[)";
  for (int i = 0; i < 1000; ++i) {
    std::string extra;
    for (int k = 0; k < 17; ++k) extra += ",\"x" + std::to_string(k) + "\":" + std::to_string(i);
    big += (i ? "," : "") + event(i, extra);
  }
  big += "]}";
  ParsedBody p = Parse(big);
  ASSERT_EQ(p.events.size(), 1000u);
  EXPECT_EQ(p.events[999].request_id, "b999");
  EXPECT_EQ(p.events[999].model, "m999");

  // Cut off inside its second event: rejected whole.
  EXPECT_EQ(Parse(R"({"events":[)" + event(1, "") + "," + event(2, "").substr(0, 30)).body_error,
            BodyError::kMalformed);
  // A batch with a member beside "events": rejected whole, its top member not kept.
  EXPECT_EQ(Parse(R"({"events":[)" + event(3, "") + R"(],"provider":"openai"})").body_error,
            BodyError::kMalformed);

  // Events of different sizes, one with a nested member, one with too many fields.
  std::string crowded;
  for (int k = 0; k < 62; ++k) crowded += ",\"f" + std::to_string(k) + "\":1";
  p = Parse(R"({"events":[)" + event(4, R"(,"meta":{"a":[1,{"b":2}],"c":"d"},"inputTokens":7)") +
            "," + event(5, crowded) + "," + event(6, "") + "]}");
  ASSERT_EQ(p.event_count, 3u);
  ASSERT_EQ(p.events.size(), 2u);
  EXPECT_EQ(p.event_index, (std::vector<size_t>{0, 2}));
  EXPECT_EQ(p.events[0].request_id, "b4");
  EXPECT_EQ(p.events[0].model, "m4");
  EXPECT_EQ(p.events[0].input_tokens, 7u);
  EXPECT_EQ(p.events[1].request_id, "b6");
  EXPECT_EQ(p.events[1].model, "m6");
  EXPECT_EQ(p.events[1].input_tokens, 0u);
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0], (FieldError{1, "", "event has too many fields"}));

  // A single event after all that: only its own three members.
  UsageEvent e = One(R"({"requestId":"s1","provider":"openai","model":"m7"})");
  EXPECT_EQ(e.request_id, "s1");
  EXPECT_EQ(e.model, "m7");
  EXPECT_EQ(e.input_tokens, 0u);
}

TEST_F(EventParserTest, EmptyBatchHasNoEvents) {
  ParsedBody p = Parse(R"({"events":[]})");
  EXPECT_EQ(p.body_error, BodyError::kNone);
  EXPECT_EQ(p.event_count, 0u);
}

TEST_F(EventParserTest, TenThousandKeysAreBoundedPerEvent) {
  std::string body = R"({"requestId":"r","provider":"p","model":"m")";
  for (int i = 0; i < 10000; ++i) body += ",\"k" + std::to_string(i) + "\":" + std::to_string(i);
  body += "}";
  ParsedBody p = Parse(body);
  ASSERT_EQ(p.errors.size(), 1u);
  EXPECT_EQ(p.errors[0].message, "event has too many fields");
}

}  // namespace
}  // namespace tokenmeter
