// Token buckets counted in events, per key and per workspace.
#include "rate_limiter.h"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

TEST(RateLimiterTest, BatchesCostOneTokenPerEvent) {
  RateLimiter rl;
  rl.AddKey("k", /*rate=*/10, /*burst=*/100);
  rl.AddWorkspace("w", 1000, 1000);
  Steady::time_point t{1000s};
  EXPECT_EQ(rl.Take("k", "w", 60, t).scope, LimitScope::kNone);
  EXPECT_EQ(rl.Take("k", "w", 40, t).scope, LimitScope::kNone);
  LimitDecision d = rl.Take("k", "w", 1, t);
  EXPECT_EQ(d.scope, LimitScope::kKey);
  EXPECT_EQ(d.retry_after_s, 1);
  d = rl.Take("k", "w", 35, t);
  EXPECT_EQ(d.scope, LimitScope::kKey);
  EXPECT_EQ(d.retry_after_s, 4);  // 35 events at 10/s: 3.5 s, rounded up
  EXPECT_EQ(rl.Take("k", "w", 35, t + 3500ms).scope, LimitScope::kNone);
}

TEST(RateLimiterTest, WorkspaceLimitCoversAllItsKeysAndRefundsTheKey) {
  RateLimiter rl;
  rl.AddKey("k1", 100, 100);
  rl.AddKey("k2", 100, 100);
  rl.AddWorkspace("w", 1, 150);
  Steady::time_point t{1000s};
  EXPECT_EQ(rl.Take("k1", "w", 100, t).scope, LimitScope::kNone);
  LimitDecision d = rl.Take("k2", "w", 60, t);
  EXPECT_EQ(d.scope, LimitScope::kWorkspace);
  EXPECT_EQ(d.retry_after_s, 10);
  // k2's own bucket was refunded: it can still send what the workspace allows.
  EXPECT_EQ(rl.Take("k2", "w", 50, t).scope, LimitScope::kNone);
}

TEST(RateLimiterTest, MoreEventsThanTheBurstCanNeverPass) {
  RateLimiter rl;
  rl.AddKey("k", 10, 20);
  rl.AddWorkspace("w", 100, 100);
  EXPECT_EQ(rl.Take("k", "w", 21, Steady::time_point{1s}).scope, LimitScope::kTooLarge);
  EXPECT_EQ(rl.Take("k", "w", 20, Steady::time_point{1s}).scope, LimitScope::kNone);
}

TEST(RateLimiterTest, BucketsRefillUpToTheBurstOnly) {
  TokenBucket b(10, 50);
  std::chrono::milliseconds wait{};
  Steady::time_point t{1000s};
  EXPECT_TRUE(b.TryTake(50, t, wait));
  EXPECT_FALSE(b.TryTake(1, t, wait));
  EXPECT_EQ(wait, 100ms);
  EXPECT_TRUE(b.TryTake(50, t + 1h, wait));  // refilled to 50, not 36,000
  EXPECT_FALSE(b.TryTake(1, t + 1h, wait));
}

}  // namespace
}  // namespace tokenmeter
