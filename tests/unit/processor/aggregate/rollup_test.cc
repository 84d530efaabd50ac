// Rollup rows: the latency sketch's quantiles and merges, encoded rows added into held
// buckets, bucket alignment to UTC boundaries.
#include "aggregate/rollup.h"

#include <gtest/gtest.h>

#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {
namespace {

TEST(RollupTest, LatencySketchQuantilesAreWithinTenPercentAndMerge) {
  LatencySketch s;
  EXPECT_EQ(s.Quantile(0.5), std::nullopt);
  for (uint32_t ms = 1; ms <= 100; ++ms) s.Add(ms);
  // Each quantile is the upper edge of its bucket: at least the true value, < 10% above.
  for (auto [q, truth] : {std::pair{0.5, 50u}, {0.95, 95u}, {0.99, 99u}, {1.0, 100u}}) {
    uint64_t got = *s.Quantile(q);
    EXPECT_GE(got, truth) << q;
    EXPECT_LE(got, truth * 11 / 10 + 1) << q;
  }
  EXPECT_EQ(*s.Quantile(0.5), 55u);  // 50 ms falls in (1.1^41, 1.1^42] = (49.8, 54.8], rounded up
  LatencySketch zero;
  zero.Add(0);
  EXPECT_EQ(zero.Quantile(0.99), 0u);
  // Merging is adding: two halves give the same sketch as the whole.
  LatencySketch low, high, whole;
  for (uint32_t ms = 1; ms <= 50; ++ms) low.Add(ms);
  for (uint32_t ms = 51; ms <= 100; ++ms) high.Add(ms);
  low.Merge(high);
  EXPECT_EQ(low, s);
  // Interleaved and shared buckets add up, in bucket order, whichever side holds more.
  LatencySketch odd, even, both;
  for (uint32_t ms = 1; ms <= 100; ms += 2) odd.Add(ms);
  for (uint32_t ms = 2; ms <= 100; ms += 2) even.Add(ms);
  even.Merge(odd);
  EXPECT_EQ(even, s);
  both.Merge(s);  // into an empty sketch
  both.Merge(s);  // every bucket shared
  ASSERT_EQ(both.buckets.size(), s.buckets.size());
  for (size_t i = 0; i < s.buckets.size(); ++i) {
    EXPECT_EQ(both.buckets[i].first, s.buckets[i].first);
    EXPECT_EQ(both.buckets[i].second, 2 * s.buckets[i].second);
  }
  RollupCounters c;
  c.latency = s;
  c.v[kLatencyCount] = 100;
  EXPECT_EQ(RollupCounters::Decode(c.Encode()), c);
}

// AddEncoded is Add(Decode(bytes)): the journal and the merge operator add encoded rows
// into rows that already hold buckets, interleaved with, equal to or before theirs.
TEST(RollupTest, AddEncodedIntoHeldBucketsIsAddingTheDecodedRow) {
  auto row = [](std::initializer_list<std::pair<uint16_t, int64_t>> buckets, int64_t requests) {
    RollupCounters c;
    c.v[kRequests] = requests;
    c.v[kCostNano] = 1'000'000'007 * requests;
    c.latency.buckets.assign(buckets.begin(), buckets.end());
    return c;
  };
  RollupCounters held = row({{3, 2}, {10, 1}, {40, 5}}, 8);
  held.AddEncoded(row({{1, 4}, {10, 2}, {11, 1}, {40, -5}, {90, 3}}, 5).Encode());
  EXPECT_EQ(held, row({{1, 4}, {3, 2}, {10, 3}, {11, 1}, {90, 3}}, 13));  // 40 cancelled out
  EXPECT_EQ(held.v[kCostNano], 13'000'000'091);

  // Every bucket after the held ones, and none at all.
  held.AddEncoded(row({{200, 1}, {201, 1}}, 1).Encode());
  held.AddEncoded(row({}, 2).Encode());
  EXPECT_EQ(held, row({{1, 4}, {3, 2}, {10, 3}, {11, 1}, {90, 3}, {200, 1}, {201, 1}}, 16));

  // Bytes whose buckets are out of order (not what Encode writes) still add up.
  RollupCounters unsorted = row({{50, 1}, {5, 2}, {50, 1}, {7, 1}}, 4);
  RollupCounters into = row({{5, 1}, {60, 1}}, 1);
  into.AddEncoded(unsorted.Encode());
  EXPECT_EQ(into, row({{5, 3}, {7, 1}, {50, 2}, {60, 1}}, 5));
  RollupCounters empty;
  empty.AddEncoded(unsorted.Encode());
  EXPECT_EQ(empty, row({{5, 2}, {7, 1}, {50, 2}}, 4));
}

TEST(RollupTest, BucketsAlignToUtcBoundaries) {
  TimePoint t = *ParseRfc3339("2026-02-07T12:34:56.789Z");
  EXPECT_EQ(FormatRfc3339(BucketStart(t, Granularity::kMinute)), "2026-02-07T12:34:00.000Z");
  EXPECT_EQ(FormatRfc3339(BucketStart(t, Granularity::kHour)), "2026-02-07T12:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(BucketStart(t, Granularity::kDay)), "2026-02-07T00:00:00.000Z");
  RollupCounters a, b;
  a.v[kCostNano] = 5;
  b.v[kCostNano] = -2;
  b.v[kRequests] = 1;
  RollupCounters round = RollupCounters::Decode(a.Encode());
  EXPECT_EQ(round, a);
  a.Add(b);
  EXPECT_EQ(a.v[kCostNano], 3);
  EXPECT_EQ(a.v[kRequests], 1);
}

}  // namespace
}  // namespace tokenmeter
