// Token buckets counted in events, per key and per workspace.
#include "rate_limiter.h"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

TEST(RateLimiterTest, BatchesCostOneTokenPerEvent) {
  RateLimiter rl;
  const RateLimit key{/*rate=*/10, /*burst=*/100}, ws{1000, 1000};
  Steady::time_point t{1000s};
  EXPECT_EQ(rl.Take("k", key, "w", ws, 60, t).scope, LimitScope::kNone);
  EXPECT_EQ(rl.Take("k", key, "w", ws, 40, t).scope, LimitScope::kNone);
  LimitDecision d = rl.Take("k", key, "w", ws, 1, t);
  EXPECT_EQ(d.scope, LimitScope::kKey);
  EXPECT_EQ(d.retry_after_s, 1);
  d = rl.Take("k", key, "w", ws, 35, t);
  EXPECT_EQ(d.scope, LimitScope::kKey);
  EXPECT_EQ(d.retry_after_s, 4);  // 35 events at 10/s: 3.5 s, rounded up
  EXPECT_EQ(rl.Take("k", key, "w", ws, 35, t + 3500ms).scope, LimitScope::kNone);
}

TEST(RateLimiterTest, WorkspaceLimitCoversAllItsKeysAndRefundsTheKey) {
  RateLimiter rl;
  const RateLimit key{100, 100}, ws{1, 150};
  Steady::time_point t{1000s};
  EXPECT_EQ(rl.Take("k1", key, "w", ws, 100, t).scope, LimitScope::kNone);
  LimitDecision d = rl.Take("k2", key, "w", ws, 60, t);
  EXPECT_EQ(d.scope, LimitScope::kWorkspace);
  EXPECT_EQ(d.retry_after_s, 10);
  // k2's own bucket was refunded: it can still send what the workspace allows.
  EXPECT_EQ(rl.Take("k2", key, "w", ws, 50, t).scope, LimitScope::kNone);
}

TEST(RateLimiterTest, MoreEventsThanTheBurstCanNeverPass) {
  RateLimiter rl;
  const RateLimit key{10, 20}, ws{100, 100};
  EXPECT_EQ(rl.Take("k", key, "w", ws, 21, Steady::time_point{1s}).scope, LimitScope::kTooLarge);
  EXPECT_EQ(rl.Take("k", key, "w", ws, 20, Steady::time_point{1s}).scope, LimitScope::kNone);
}

TEST(RateLimiterTest, AKeySeenFirstAtRunTimeGetsTheLimitsGivenThen) {
  RateLimiter rl;
  Steady::time_point t{1000s};
  EXPECT_EQ(rl.Take("new", RateLimit{1, 5}, "w", RateLimit{100, 100}, 5, t).scope, LimitScope::kNone);
  EXPECT_EQ(rl.Take("new", RateLimit{1, 5}, "w", RateLimit{100, 100}, 1, t).scope, LimitScope::kKey);
  // The bucket keeps the limits it was made with.
  EXPECT_EQ(rl.Take("new", RateLimit{1000, 1000}, "w", RateLimit{100, 100}, 1, t).scope, LimitScope::kKey);
  EXPECT_EQ(rl.Take("other", RateLimit{1, 5}, "w", RateLimit{100, 100}, 5, t).scope, LimitScope::kNone);
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
