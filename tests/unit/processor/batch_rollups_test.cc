// BatchRollups: the 1-minute rows one batch adds to, keyed exactly as RollupKey lays them
// out (the key is built once per event and only its dimension and value are rewritten per
// row, so every row's key is checked against the reference function here).
#include "aggregate/batch_rollups.h"

#include <gtest/gtest.h>

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

std::string Key(const UsageEvent& e, Dimension d, std::string_view value) {
  return RollupKey(e.workspace, e.data_mode, Granularity::kMinute, d,
                   *ParseRfc3339("2026-11-23T10:15:00Z"), e.environment, value);
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
      {Key(e, Dimension::kProject, "search"), CallCounters(1500, 80)},
      {Key(e, Dimension::kUser, "u1"), CallCounters(1500, 80)},
      {Key(e, Dimension::kTenant, "t9"), CallCounters(1500, 80)},
  };
  EXPECT_EQ(rollups.Finish(), want);
}

TEST(BatchRollupsTest, MissingAttributionIsLeftOutAndEmptyEndpointAndStatusReadUnknown) {
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
  };
  EXPECT_EQ(rollups.Finish(), want);
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
  std::map<std::string, RollupCounters> got = rollups.Finish();
  ASSERT_EQ(got.size(), 11u);  // 7 shared rows, and user and model once for each event
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

  rollups.Remove(b, CallCounters(200, 10));
  got = rollups.Finish();
  EXPECT_EQ(got.size(), 9u);  // b's own user and model rows count nothing now: not written
  RollupCounters a_and_dup = CallCounters(100, 10);
  a_and_dup.v[kDuplicates] = 1;
  EXPECT_EQ(got[Key(a, Dimension::kTotal, "")], a_and_dup);
  EXPECT_EQ(got[Key(a, Dimension::kTenant, "t9")], CallCounters(100, 10));
}

}  // namespace
}  // namespace tokenmeter
