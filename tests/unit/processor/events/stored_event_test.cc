// The events family's compact rows: what the query API shows from a row is exactly the
// canonical event JSON and the cost JSON of what was stored, for every optional field
// present or absent; rows in the earlier JSON-lines form still read; a damaged row is
// refused, never shown half-decoded.
#include "events/stored_event.h"

#include <gtest/gtest.h>

#include "test_events.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/model/event_codec.h"

namespace tokenmeter {
namespace {

const TimePoint kT = *ParseRfc3339("2026-02-07T12:34:56.789Z");

// The shared full event, with numbers at the edges of their encodings.
UsageEvent FullEvent() {
  UsageEvent e = testing::FullEvent();
  e.input_tokens = 123456789012ull;
  e.latency_ms = 4'000'000'000u;
  e.estimated_cost = NanoUsd{-5};
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

// Stores `e` priced as `c`, reads the row back, and checks it shows exactly the JSON the
// event and cost encode to; returns what it showed.
StoredEventJson RoundTrip(const UsageEvent& e, const Cost& c, std::string_view version) {
  std::string row;
  EncodeStoredEvent(e, c, version, row);
  std::optional<StoredEventJson> got = StoredEventToJson(row);
  EXPECT_TRUE(got.has_value());
  if (!got) return {};
  std::string event, cost;
  EncodeCanonical(e, event);
  AppendCostJson(c, version, cost);
  EXPECT_EQ(got->event, event);
  EXPECT_EQ(got->cost, cost);
  return *got;
}

TEST(StoredEventTest, EveryFieldComesBackAsTheCanonicalAndCostJson) {
  StoredEventJson got = RoundTrip(FullEvent(), FullCost(), "litellm-2026-11-01");
  EXPECT_EQ(got.cost,
            R"({"cost_usd":"9223372036.854775807","cost_source":"catalog_tiered","catalog_version":"litellm-2026-11-01",)"
            R"("pricing_flags":5,"tier_above_prompt_tokens":200000,"breakdown_usd":{"input":"0.000127500",)"
            R"("cached":"0.000000001","cache_write":"0.000000000","output":"0.000192000","reasoning":"-0.000000003"}})");
}

TEST(StoredEventTest, AbsentOptionalsStayAbsentAndAnUnpricedCallStaysUnpriced) {
  StoredEventJson got = RoundTrip(testing::TestEvent("acme", "a", "mystery-model", 850, 320, kT), Cost{}, "");
  EXPECT_EQ(got.cost.rfind(R"({"cost_usd":null,"cost_source":"unpriced",)", 0), 0u) << got.cost;
  EXPECT_EQ(got.event.find("latency"), std::string::npos) << got.event;
}

TEST(StoredEventTest, IsACompactRowBesideTheJsonLinesItReplaces) {
  std::string row;
  EncodeStoredEvent(FullEvent(), FullCost(), "litellm-2026-11-01", row);
  StoredEventJson json = RoundTrip(FullEvent(), FullCost(), "litellm-2026-11-01");
  size_t json_lines = json.event.size() + 1 + json.cost.size();
  EXPECT_LT(row.size() * 5, json_lines * 2) << row.size() << " bytes against " << json_lines;
}

TEST(StoredEventTest, RowsInTheJsonLinesFormOfEarlyDevelopmentAreNotRead) {
  EXPECT_FALSE(StoredEventToJson("{\"v\":1,\"workspace\":\"acme\"}\n{\"cost_usd\":null}").has_value());
}

// Rows stay on disk for the retention window, so the layout is fixed: these are the bytes
// of the full event in row version 2 (the event fields as the bus record lays them out, the
// row's cost bit after the event's own bits).
TEST(StoredEventTest, TheRowLayoutIsTheOneRowsOnDiskWereWrittenIn) {
  std::string row;
  EncodeStoredEvent(FullEvent(), FullCost(), "v1", row);
  std::string hex;
  for (unsigned char c : row) {
    hex.push_back("0123456789abcdef"[c >> 4]);
    hex.push_back("0123456789abcdef"[c & 15]);
  }
  EXPECT_EQ(
      hex,
      "020461636d6511726571202271756f74656422205c20696409616e7468726f70696310636c617564652d332d352d"
      "6861696b7510436c617564652d332e352d4861696b7513636865636b6f75742e61695f73756d6d6172790d73756d"
      "6d6172697a65725f763300047479706f0773746167696e6706757365722d310974656e616e742dc3a90c4b455949"
      "44303030303030310294b4e4f4cb03c2036432190c2fa40d80d0acf30e0309b4e2c1ff86678088c9ff8667030"
      "1feffffffffffffffff0198c80f020080b81705c09a0c05027631");
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
