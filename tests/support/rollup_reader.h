// Test helper: the counters a reader sees for one rollup row, through the rollup journal
// (folded rows plus deltas not yet folded), as the query API reads them.
#ifndef TOKENMETER_TESTS_SUPPORT_ROLLUP_READER_H_
#define TOKENMETER_TESTS_SUPPORT_ROLLUP_READER_H_

#include <gtest/gtest.h>

#include <string_view>

#include "aggregate/rollup_journal.h"

namespace tokenmeter::testing {

inline RollupCounters ReadRollup(const RollupJournal& journal, std::string_view ws, DataMode mode, Granularity g,
                                 Dimension d, TimePoint bucket, std::string_view env, std::string_view value) {
  RollupCounters sum;
  RollupRange r = MakeRollupRange(ws, mode, g, d, bucket, bucket + std::chrono::milliseconds(1));
  Status s = journal.Scan(r, [&](TimePoint b, std::string_view e, std::string_view v, const RollupCounters& c) {
    if (b == bucket && e == env && v == value) sum.Add(c);
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return sum;
}

}  // namespace tokenmeter::testing

#endif  // TOKENMETER_TESTS_SUPPORT_ROLLUP_READER_H_
