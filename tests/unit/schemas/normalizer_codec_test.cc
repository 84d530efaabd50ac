// Provider/model normalization from the data table, and the canonical bus codec.
#include <gtest/gtest.h>

#include "test_events.h"

#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/model/event_codec.h"
#include "tokenmeter/model/event_parser.h"
#include "tokenmeter/model/normalizer.h"

namespace tokenmeter {
namespace {

TEST(NormalizerTest, ProviderAliasesFromTheTable) {
  Normalizer n = *Normalizer::FromEmbeddedTable();
  EXPECT_EQ(n.Provider("gemini"), "google");
  EXPECT_EQ(n.Provider(" Vertex_AI "), "google");
  EXPECT_EQ(n.Provider("AZURE"), "azure_openai");
  EXPECT_EQ(n.Provider("claude"), "anthropic");
  EXPECT_EQ(n.Provider("bedrock"), "aws_bedrock");
  EXPECT_EQ(n.Provider("OpenAI"), "openai");
  EXPECT_EQ(n.Provider("Acme-LLM"), "acme-llm");  // unknown: lowercased, kept
}

TEST(NormalizerTest, ModelNamesLoseCaseAndProviderPrefix) {
  Normalizer n = *Normalizer::FromEmbeddedTable();
  EXPECT_EQ(n.Model("openai", "GPT-4o-mini"), "gpt-4o-mini");
  EXPECT_EQ(n.Model("openai", "openai/gpt-4o"), "gpt-4o");
  EXPECT_EQ(n.Model("google", "models/gemini-2.0-flash"), "gemini-2.0-flash");
  EXPECT_EQ(n.Model("openai", "gpt4o"), "gpt-4o");
  EXPECT_EQ(n.Model("anthropic", "claude-3.5-haiku"), "claude-3-5-haiku");
  EXPECT_EQ(n.Model("anthropic", "claude-3-5-haiku-20241022"), "claude-3-5-haiku-20241022");
}

TEST(NormalizerTest, MalformedTableIsAnError) {
  EXPECT_FALSE(Normalizer::FromJson("[]").ok());
  EXPECT_FALSE(Normalizer::FromJson(R"({"providers":{},"models":{}})").ok());
  EXPECT_TRUE(Normalizer::FromJson(R"({"providers":{},"models":{},"model_prefixes":[]})").ok());
}

TEST(EventCodecTest, CanonicalRoundTripIsLossless) {
  IngestLimits limits;
  Normalizer n = *Normalizer::FromEmbeddedTable();
  EventParser parser(limits, n);
  UsageEvent e = testing::FullEvent();
  std::string wire;
  EncodeCanonical(e, wire);
  Result<UsageEvent> back = parser.ParseCanonical(wire);
  ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << wire;
  EXPECT_EQ(*back, e);
}

// The processor parses every batch into the events of the last one: an event cleared
// for reuse parses exactly as a fresh one, whatever the last event had set.
TEST(EventCodecTest, AReusedEventKeepsNothingOfTheLastOne) {
  IngestLimits limits;
  Normalizer n = *Normalizer::FromEmbeddedTable();
  EventParser parser(limits, n);
  std::string full_wire, small_wire, scratch;
  EncodeCanonical(testing::FullEvent(), full_wire);
  UsageEvent small;
  small.workspace = "acme";
  small.request_id = "r-2";
  small.provider = "openai";
  small.model = small.model_raw = "gpt-4o-mini";
  small.environment = "prod";
  small.occurred_at = small.received_at = *ParseRfc3339("2026-02-07T12:00:00.000Z");
  EncodeCanonical(small, small_wire);

  UsageEvent reused;
  ASSERT_TRUE(parser.ParseCanonical(full_wire, reused, scratch).ok());
  EXPECT_EQ(reused, testing::FullEvent());
  ClearKeepingCapacity(reused);
  EXPECT_EQ(reused, UsageEvent{});
  ASSERT_TRUE(parser.ParseCanonical(small_wire, reused, scratch).ok());
  EXPECT_EQ(reused, small);
  EXPECT_EQ(reused, *parser.ParseCanonical(small_wire));
}

TEST(EventCodecTest, CanonicalFormIsStable) {
  UsageEvent e;
  e.workspace = "acme";
  e.request_id = "r1";
  e.provider = "openai";
  e.model = "gpt-4o-mini";
  e.model_raw = "gpt-4o-mini";
  e.environment = "prod";
  e.input_tokens = 850;
  e.output_tokens = 320;
  e.estimated_cost = NanoUsd{1500};
  e.occurred_at = *ParseRfc3339("2026-02-07T12:00:00Z");
  e.received_at = e.occurred_at;
  std::string wire;
  EncodeCanonical(e, wire);
  EXPECT_EQ(wire,
            R"({"v":1,"workspace":"acme","request_id":"r1","provider":"openai","model":"gpt-4o-mini",)"
            R"("environment":"prod","data_mode":"real","input_tokens":850,"output_tokens":320,)"
            R"("estimated_cost_usd":0.000001500,"occurred_at":"2026-02-07T12:00:00.000Z",)"
            R"("received_at":"2026-02-07T12:00:00.000Z"})");
}

TEST(EventCodecTest, CanonicalDecodeRejectsBadRecords) {
  IngestLimits limits;
  Normalizer n = *Normalizer::FromEmbeddedTable();
  EventParser parser(limits, n);
  const std::string base =
      R"("request_id":"r1","provider":"openai","model":"m","environment":"prod","data_mode":"real",)"
      R"("occurred_at":"2026-02-07T12:00:00.000Z","received_at":"2026-02-07T12:00:00.000Z")";
  EXPECT_TRUE(parser.ParseCanonical(R"({"v":1,"workspace":"acme",)" + base + "}").ok());
  Result<UsageEvent> no_ws = parser.ParseCanonical(R"({"v":1,)" + base + "}");
  ASSERT_FALSE(no_ws.ok());
  EXPECT_EQ(no_ws.status().message(), "workspace is required");
  EXPECT_EQ(parser.ParseCanonical(R"({"v":2,"workspace":"acme",)" + base + "}").status().message(),
            "v unsupported schema version (this build reads 1)");
  EXPECT_FALSE(parser.ParseCanonical("not json").ok());
  EXPECT_FALSE(parser.ParseCanonical(R"({"events":[]})").ok());
  // Opsmeter names are not canonical names.
  EXPECT_FALSE(parser.ParseCanonical(R"({"v":1,"workspace":"acme","externalRequestId":"r",)" +
                                     base.substr(base.find("\"provider\"")) + "}")
                   .ok());
}

}  // namespace
}  // namespace tokenmeter
