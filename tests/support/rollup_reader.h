// Test helpers: the counters of one call, and the counters a reader sees for one rollup
// row, through the rollup journal (folded rows plus deltas not yet folded), as the query
// API reads them.
#ifndef TOKENMETER_TESTS_SUPPORT_ROLLUP_READER_H_
#define TOKENMETER_TESTS_SUPPORT_ROLLUP_READER_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>

#include "aggregate/rollup_journal.h"

namespace tokenmeter::testing {

// One request costing `cost` nano-USD with latency `latency_ms`.
inline RollupCounters CallCounters(int64_t cost, uint32_t latency_ms) {
  RollupCounters c;
  c.v[kRequests] = 1;
  c.v[kCostNano] = cost;
  c.latency.Add(latency_ms);
  return c;
}

// The row of `value` in `bucket` and environment `env`, summed over its projects.
inline RollupCounters ReadRollup(const RollupJournal& journal, std::string_view ws, DataMode mode, Granularity g,
                                 Dimension d, TimePoint bucket, std::string_view env, std::string_view value) {
  RollupCounters sum;
  RollupRange r = MakeRollupRange(ws, mode, g, d, bucket, bucket + std::chrono::milliseconds(1));
  Status s = journal.Scan(r, [&](TimePoint b, RollupScope at, std::string_view v, const RollupCounters& c) {
    if (b == bucket && at.environment == env && v == value) sum.Add(c);
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return sum;
}

}  // namespace tokenmeter::testing

#endif  // TOKENMETER_TESTS_SUPPORT_ROLLUP_READER_H_
