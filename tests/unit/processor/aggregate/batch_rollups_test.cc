// BatchRollups: the 1-minute rows one batch adds to, keyed exactly as RollupKey lays them
// out (the key is built once per event and only its dimension and value are rewritten per
// row, so every row's key is checked against the reference function here).
#include "aggregate/batch_rollups.h"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <string>

#include "rollup_reader.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {
namespace {

using testing::CallCounters;

UsageEvent FullEvent() {
  UsageEvent e;
  e.workspace = "acme";
  e.data_mode = DataMode::kReal;
  e.environment = "prod";
  e.provider = "openai";
  e.model = "gpt-4o";
  e.endpoint_tag = "chat";
  e.prompt_version = "v7";
  e.project = "search";
  e.user_id = "u1";
  e.tenant_id = "t9";
  e.status = CallStatus::kError;
  e.occurred_at = *ParseRfc3339("2026-11-23T10:15:42.250Z");
  return e;
}

// Finish()'s rows as a map, checking they come in key order without repeats.
std::map<std::string, RollupCounters> Rows(const BatchRollups& rollups) {
  std::map<std::string, RollupCounters> out;
  RollupDeltas rows = rollups.Finish();
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(rows[i - 1].key, rows[i].key);
    }
    out.emplace(rows[i].key, *rows[i].counters);
  }
  return out;
}

std::string Key(const UsageEvent& e, Dimension d, std::string_view value) {
  return RollupKey(e.workspace, e.data_mode, Granularity::kMinute, d,
                   *ParseRfc3339("2026-11-23T10:15:00Z"), {e.environment, e.project}, value);
}

TEST(BatchRollupsTest, AnEventCountsInItsMinuteRowOfEveryDimensionItHas) {
  UsageEvent e = FullEvent();
  BatchRollups rollups;
  rollups.Add(e, CallCounters(1500, 80), /*duplicate_only=*/false);
  std::map<std::string, RollupCounters> want = {
      {Key(e, Dimension::kTotal, ""), CallCounters(1500, 80)},
      {Key(e, Dimension::kEndpointTag, "chat"), CallCounters(1500, 80)},
      {Key(e, Dimension::kModel, "gpt-4o"), CallCounters(1500, 80)},
      {Key(e, Dimension::kProvider, "openai"), CallCounters(1500, 80)},
      {Key(e, Dimension::kStatus, "error"), CallCounters(1500, 80)},
      {Key(e, Dimension::kPromptVersion, "v7"), CallCounters(1500, 80)},
      {Key(e, Dimension::kUser, "u1"), CallCounters(1500, 80)},
      {Key(e, Dimension::kTenant, "t9"), CallCounters(1500, 80)},
      {Key(e, Dimension::kFeaturePrompt, std::string("chat\0v7", 7)), CallCounters(1500, 80)},
      {Key(e, Dimension::kFeatureModel, std::string("chat\0gpt-4o", 11)), CallCounters(1500, 80)},
  };
  EXPECT_EQ(Rows(rollups), want);
}

// An event without a user or tenant has a row of value "" in each (listed as "unknown"),
// and without a project its rows' scope has project ""; without a prompt version it has
// none (nor a feature-prompt row); an empty endpoint and status read "unknown", also as
// the feature of its feature-model row.
TEST(BatchRollupsTest, MissingAttributionHasAnEmptyRowAndEmptyEndpointAndStatusReadUnknown) {
  UsageEvent e = FullEvent();
  e.endpoint_tag.clear();
  e.prompt_version.clear();
  e.project.clear();
  e.user_id.clear();
  e.tenant_id.clear();
  e.status.reset();
  BatchRollups rollups;
  rollups.Add(e, CallCounters(7, 3), false);
  std::map<std::string, RollupCounters> want = {
      {Key(e, Dimension::kTotal, ""), CallCounters(7, 3)},
      {Key(e, Dimension::kEndpointTag, "unknown"), CallCounters(7, 3)},
      {Key(e, Dimension::kModel, "gpt-4o"), CallCounters(7, 3)},
      {Key(e, Dimension::kProvider, "openai"), CallCounters(7, 3)},
      {Key(e, Dimension::kStatus, "unknown"), CallCounters(7, 3)},
      {Key(e, Dimension::kUser, ""), CallCounters(7, 3)},
      {Key(e, Dimension::kTenant, ""), CallCounters(7, 3)},
      {Key(e, Dimension::kFeatureModel, std::string("unknown\0gpt-4o", 14)), CallCounters(7, 3)},
  };
  EXPECT_EQ(Rows(rollups), want);
}

// An unpriced event also counts in a row of its provider and model, taken back with it.
TEST(BatchRollupsTest, AnUnpricedEventHasARowByProviderAndModel) {
  UsageEvent e = FullEvent();
  RollupCounters unpriced;
  unpriced.v[kRequests] = 1;
  unpriced.v[kUnpriced] = 1;
  unpriced.v[kInputTokens] = 40;
  BatchRollups rollups;
  rollups.Add(e, unpriced, false);
  std::map<std::string, RollupCounters> got = Rows(rollups);
  EXPECT_EQ(got[Key(e, Dimension::kUnpricedModel, "openai/gpt-4o")], unpriced);
  rollups.Add(e, CallCounters(7, 3), false);  // priced: no such row
  EXPECT_EQ(Rows(rollups)[Key(e, Dimension::kUnpricedModel, "openai/gpt-4o")], unpriced);
  rollups.Remove(e, unpriced);
  EXPECT_EQ(Rows(rollups).count(Key(e, Dimension::kUnpricedModel, "openai/gpt-4o")), 0u);
}

TEST(BatchRollupsTest, EventsSumPerRowDuplicatesOnlyInTotalAndEndpointAndRemoveTakesBack) {
  UsageEvent a = FullEvent();
  UsageEvent b = FullEvent();
  b.user_id = "u2";  // a longer and a shorter value than the row before it in the key buffer
  b.model = "gpt-4o-mini";
  BatchRollups rollups;
  rollups.Add(a, CallCounters(100, 10), false);
  rollups.Add(b, CallCounters(200, 10), false);
  RollupCounters dup;
  dup.v[kDuplicates] = 1;
  rollups.Add(a, dup, /*duplicate_only=*/true);
  std::map<std::string, RollupCounters> got = Rows(rollups);
  ASSERT_EQ(got.size(), 13u);  // 7 shared rows, and user, model, feature-model once for each event
  RollupCounters total = CallCounters(100, 10);
  total.Add(CallCounters(200, 10));
  total.v[kDuplicates] = 1;
  EXPECT_EQ(got[Key(a, Dimension::kTotal, "")], total);
  EXPECT_EQ(got[Key(a, Dimension::kEndpointTag, "chat")], total);
  RollupCounters both = CallCounters(100, 10);
  both.Add(CallCounters(200, 10));
  EXPECT_EQ(got[Key(a, Dimension::kTenant, "t9")], both);
  EXPECT_EQ(got[Key(a, Dimension::kUser, "u1")], CallCounters(100, 10));
  EXPECT_EQ(got[Key(b, Dimension::kUser, "u2")], CallCounters(200, 10));
  EXPECT_EQ(got[Key(a, Dimension::kModel, "gpt-4o")], CallCounters(100, 10));
  EXPECT_EQ(got[Key(b, Dimension::kModel, "gpt-4o-mini")], CallCounters(200, 10));
  EXPECT_EQ(got[Key(a, Dimension::kFeaturePrompt, std::string("chat\0v7", 7))], both) << "no duplicate in a pair row";
  EXPECT_EQ(got[Key(b, Dimension::kFeatureModel, std::string("chat\0gpt-4o-mini", 16))], CallCounters(200, 10));

  rollups.Remove(b, CallCounters(200, 10));
  got = Rows(rollups);
  EXPECT_EQ(got.size(), 10u);  // b's own user, model and feature-model rows count nothing now: not written
  RollupCounters a_and_dup = CallCounters(100, 10);
  a_and_dup.v[kDuplicates] = 1;
  EXPECT_EQ(got[Key(a, Dimension::kTotal, "")], a_and_dup);
  EXPECT_EQ(got[Key(a, Dimension::kTenant, "t9")], CallCounters(100, 10));
}

// Thousands of rows: the table grows several times, Reset keeps the rows a batch counted
// in (zeroed) and drops the rest, and every row is still found by its key afterwards.
TEST(BatchRollupsTest, ThousandsOfRowsKeepTheirSumsAcrossGrowthResetsAndAbsorb) {
  constexpr int kUsers = 3000;
  auto user_event = [](int i) {
    UsageEvent e = FullEvent();
    e.user_id = "user-" + std::to_string(i);
    return e;
  };
  auto user_row = [&](int i) {
    return Key(FullEvent(), Dimension::kUser, "user-" + std::to_string(i));
  };
  BatchRollups rollups;
  for (int i = 0; i < kUsers; ++i) rollups.Add(user_event(i), CallCounters(i, 10), false);
  std::map<std::string, RollupCounters> got = Rows(rollups);
  ASSERT_EQ(got.size(), 9u + kUsers);
  EXPECT_EQ(got[Key(FullEvent(), Dimension::kTotal, "")].v[kRequests], kUsers);
  EXPECT_EQ(got[Key(FullEvent(), Dimension::kTotal, "")].v[kCostNano],
            int64_t{kUsers} * (kUsers - 1) / 2);
  for (int i : {0, 1, 511, 512, 1023, 2999}) EXPECT_EQ(got[user_row(i)], CallCounters(i, 10)) << i;

  // Next batch: the even users only. The odd users' rows are kept zeroed through this
  // batch (counted in the last one) and not written.
  rollups.Reset();
  for (int i = 0; i < kUsers; i += 2) rollups.Add(user_event(i), CallCounters(1000 + i, 20), false);
  got = Rows(rollups);
  ASSERT_EQ(got.size(), 9u + kUsers / 2);
  EXPECT_EQ(got.count(user_row(1)), 0u);
  EXPECT_EQ(got[user_row(2998)], CallCounters(3998, 20));

  // Next: the odd users' rows are dropped by this Reset (nothing counted in them), the
  // even ones move down in the key buffer; both kinds are found again.
  rollups.Reset();
  for (int i = 0; i < kUsers; ++i) rollups.Add(user_event(i), CallCounters(5, 30), false);
  BatchRollups other;  // another thread's half: 100 users, one of them new here
  for (int i = kUsers - 99; i <= kUsers; ++i) other.Add(user_event(i), CallCounters(7, 30), false);
  rollups.Absorb(other);
  got = Rows(rollups);
  ASSERT_EQ(got.size(), 9u + kUsers + 1);
  RollupCounters both = CallCounters(5, 30);
  both.Add(CallCounters(7, 30));
  EXPECT_EQ(got[user_row(0)], CallCounters(5, 30));
  EXPECT_EQ(got[user_row(1)], CallCounters(5, 30));
  EXPECT_EQ(got[user_row(kUsers - 1)], both);
  EXPECT_EQ(got[user_row(kUsers)], CallCounters(7, 30));
  EXPECT_EQ(got[Key(FullEvent(), Dimension::kTotal, "")].v[kRequests], kUsers + 100);
  EXPECT_EQ(got[Key(FullEvent(), Dimension::kTotal, "")].v[kCostNano], kUsers * 5 + 100 * 7);
}

}  // namespace
}  // namespace tokenmeter

namespace tokenmeter {
namespace {

std::string Compact(const RollupCounters& c) {
  std::string out(c.CompactBound(), '\0');
  out.resize(static_cast<size_t>(c.PutCompact(out.data()) - out.data()));
  return out;
}

// The rollup journal's row form: every field and bucket back exactly, added to what the
// counters hold, and bytes that are not such a row refused instead of misread.
TEST(RollupCountersTest, CompactFormAddsBackEveryFieldAndBucketAndRefusesOtherBytes) {
  RollupCounters c;
  c.v[kRequests] = 3;
  c.v[kErrors] = -2;  // a take-back can leave a negative delta
  c.v[kInputTokens] = std::numeric_limits<int64_t>::max();
  c.v[kCostNano] = std::numeric_limits<int64_t>::min();
  c.v[kLatencyCount] = 1;
  c.latency.buckets = {{0, 4}, {7, -1}, {65535, 9}};
  std::string bytes = Compact(c);
  VarintReader r(bytes);
  RollupCounters back;
  ASSERT_TRUE(back.AddCompact(r));
  EXPECT_TRUE(r.done());
  EXPECT_EQ(back, c);

  RollupCounters sum = CallCounters(10, 5);
  RollupCounters expected = sum;
  expected.Add(c);
  VarintReader again(bytes);
  ASSERT_TRUE(sum.AddCompact(again));
  EXPECT_EQ(sum, expected);

  // A one-event row: mask, 2 fields, 1 bucket.
  EXPECT_EQ(Compact(CallCounters(1234, 5)).size(), 2u + 1u + 2u + 1u + 1u + 1u);
  EXPECT_EQ(Compact(RollupCounters{}), std::string(2, '\0'));

  for (size_t n = 0; n < bytes.size(); ++n) {  // cut short anywhere
    VarintReader cut(std::string_view(bytes).substr(0, n));
    RollupCounters into;
    EXPECT_FALSE(into.AddCompact(cut)) << n;
  }
  auto refused = [](std::string_view b) {
    VarintReader reader(b);
    RollupCounters into;
    return !into.AddCompact(reader);
  };
  EXPECT_TRUE(refused(std::string("\x80\x40\x00", 3)));              // field 13 does not exist
  EXPECT_TRUE(refused(std::string("\x00\x02\x05\x02\x00\x02", 6)));  // bucket 5 twice
  EXPECT_TRUE(refused(std::string("\x00\x01\x05\x00", 4)));          // a zero count
  EXPECT_TRUE(refused(std::string("\x00\x02\xff\xff\x03\x02\x01\x02", 8)));   // past 65535
  EXPECT_FALSE(refused(std::string("\x00\x02\xfe\xff\x03\x02\x01\x02", 8)));  // 65534, 65535
}

}  // namespace
}  // namespace tokenmeter
