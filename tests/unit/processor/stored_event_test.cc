// The events family's compact rows: what the query API shows from a row is exactly the
// canonical event JSON and the cost JSON of what was stored, for every optional field
// present or absent; rows in the earlier JSON-lines form still read; a damaged row is
// refused, never shown half-decoded.
#include "state/stored_event.h"

#include <gtest/gtest.h>

#include "test_events.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/model/event_codec.h"

namespace tokenmeter {
namespace {

const TimePoint kT = *ParseRfc3339("2026-02-07T12:34:56.789Z");

UsageEvent FullEvent() {
  UsageEvent e = testing::TestEvent("acme", "req-\"1\"", "gpt-4o-mini", 123456789012ull, 320, kT);
  e.model_raw = "GPT-4o-mini";
  e.prompt_version = "v7";
  e.project = "support";
  e.project_raw = "Support";
  e.environment = "staging";
  e.data_mode = DataMode::kTest;
  e.user_id = "u-\u00e9";
  e.tenant_id = "t9";
  e.cached_tokens = 100;
  e.cache_write_tokens = 7;
  e.cache_write_1h_tokens = 3;
  e.reasoning_tokens = 64;
  e.total_tokens = 123456789332ull;
  e.latency_ms = 4'000'000'000u;
  e.status = CallStatus::kTimeout;
  e.estimated_cost = NanoUsd{-5};
  e.received_at = kT + std::chrono::milliseconds(1500);
  e.api_key_id = "tm_key";
  e.warnings = kWarnTotalTokensMismatch | kWarnUnknownProject;
  return e;
}

Cost FullCost() {
  Cost c;
  c.source = CostSource::kCatalogTiered;
  c.total = NanoUsd{9'223'372'036'854'775'807};
  c.input = NanoUsd{127'500};
  c.cached = NanoUsd{1};
  c.cache_write = NanoUsd{0};
  c.output = NanoUsd{192'000};
  c.reasoning = NanoUsd{-3};
  c.tier_threshold = 200'000;
  c.flags = 5;
  return c;
}

StoredEventJson Expected(const UsageEvent& e, const Cost& c, std::string_view version) {
  StoredEventJson want;
  EncodeCanonical(e, want.event);
  AppendCostJson(c, version, want.cost);
  return want;
}

TEST(StoredEventTest, EveryFieldComesBackAsTheCanonicalAndCostJson) {
  UsageEvent e = FullEvent();
  Cost c = FullCost();
  std::string row;
  EncodeStoredEvent(e, c, "litellm-2026-11-01", row);
  std::optional<StoredEventJson> got = StoredEventToJson(row);
  ASSERT_TRUE(got.has_value());
  StoredEventJson want = Expected(e, c, "litellm-2026-11-01");
  EXPECT_EQ(got->event, want.event);
  EXPECT_EQ(got->cost, want.cost);
  EXPECT_EQ(got->cost,
            R"({"cost_usd":"9223372036.854775807","cost_source":"catalog_tiered","catalog_version":"litellm-2026-11-01",)"
            R"("pricing_flags":5,"tier_above_prompt_tokens":200000,"breakdown_usd":{"input":"0.000127500",)"
            R"("cached":"0.000000001","cache_write":"0.000000000","output":"0.000192000","reasoning":"-0.000000003"}})");
}

TEST(StoredEventTest, AbsentOptionalsStayAbsentAndAnUnpricedCallStaysUnpriced) {
  UsageEvent e = testing::TestEvent("acme", "a", "mystery-model", 850, 320, kT);
  Cost c;  // unpriced: no total
  std::string row;
  EncodeStoredEvent(e, c, "", row);
  std::optional<StoredEventJson> got = StoredEventToJson(row);
  ASSERT_TRUE(got.has_value());
  StoredEventJson want = Expected(e, c, "");
  EXPECT_EQ(got->event, want.event);
  EXPECT_EQ(got->cost, want.cost);
  EXPECT_EQ(got->cost.rfind(R"({"cost_usd":null,"cost_source":"unpriced",)", 0), 0u) << got->cost;
}

TEST(StoredEventTest, IsACompactRowBesideTheJsonLinesItReplaces) {
  UsageEvent e = FullEvent();
  Cost c = FullCost();
  std::string row;
  EncodeStoredEvent(e, c, "litellm-2026-11-01", row);
  StoredEventJson json = Expected(e, c, "litellm-2026-11-01");
  EXPECT_LT(row.size() * 5, (json.event.size() + 1 + json.cost.size()) * 2)
      << row.size() << " bytes against " << json.event.size() + 1 + json.cost.size();
}

TEST(StoredEventTest, RowsInTheEarlierJsonLinesFormStillRead) {
  std::optional<StoredEventJson> got = StoredEventToJson("{\"v\":1,\"workspace\":\"acme\"}\n{\"cost_usd\":null}");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->event, "{\"v\":1,\"workspace\":\"acme\"}");
  EXPECT_EQ(got->cost, "{\"cost_usd\":null}");
}

TEST(StoredEventTest, DamagedRowsAreRefused) {
  std::string row;
  EncodeStoredEvent(FullEvent(), FullCost(), "litellm-2026-11-01", row);
  EXPECT_FALSE(StoredEventToJson("").has_value());
  EXPECT_FALSE(StoredEventToJson("{no newline}").has_value());
  EXPECT_FALSE(StoredEventToJson(std::string(1, '\x07') + row.substr(1)).has_value()) << "unknown version";
  for (size_t cut : {size_t{1}, size_t{2}, row.size() / 2, row.size() - 1}) {
    EXPECT_FALSE(StoredEventToJson(row.substr(0, cut)).has_value()) << "cut at " << cut;
  }
  EXPECT_FALSE(StoredEventToJson(row + "x").has_value()) << "trailing bytes";
  UsageEvent e = testing::TestEvent("acme", "a", "m", 1, 1, kT);
  std::string bad_mode;
  EncodeStoredEvent(e, Cost{}, "", bad_mode);
  // The data mode byte follows the 13 one-byte-length texts; "acme", "a", "openai", "m",
  // "m", "checkout.ai_summary", "prod" are the non-empty ones.
  size_t mode_at = 1 + 13 + 4 + 1 + 6 + 1 + 1 + 19 + 4;
  ASSERT_EQ(bad_mode[mode_at], static_cast<char>(DataMode::kReal));
  bad_mode[mode_at] = 9;
  EXPECT_FALSE(StoredEventToJson(bad_mode).has_value()) << "no such data mode";
}

}  // namespace
}  // namespace tokenmeter
