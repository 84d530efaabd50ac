// The sinks' one retry policy: doubling backoff capped at the maximum, equal jitter
// (never less than half), a longer Retry-After honoured, and dead past the horizon.
#include "retry/retry_schedule.h"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

TEST(RetryScheduleTest, BackoffDoublesWithEqualJitterUpToTheCap) {
  RetryPolicy p;  // 1 s doubling to 300 s, horizon 24 h
  EXPECT_EQ(NextAttemptMs(p, 1, 10'000, 10'000, std::nullopt, 0.0), 10'500);   // half of 1 s
  EXPECT_EQ(NextAttemptMs(p, 1, 10'000, 10'000, std::nullopt, 0.999), 10'999);
  EXPECT_EQ(NextAttemptMs(p, 2, 10'000, 10'000, std::nullopt, 0.0), 11'000);   // half of 2 s
  EXPECT_EQ(NextAttemptMs(p, 5, 10'000, 10'000, std::nullopt, 0.5), 22'000);   // 16 s: 8 + 4
  EXPECT_EQ(NextAttemptMs(p, 30, 10'000, 10'000, std::nullopt, 0.0), 160'000); // capped: 150 s
}

TEST(RetryScheduleTest, ALongerRetryAfterWins) {
  RetryPolicy p;
  EXPECT_EQ(NextAttemptMs(p, 1, 0, 0, 30'000, 0.0), 30'000);
  EXPECT_EQ(NextAttemptMs(p, 1, 0, 0, 100, 0.0), 500);  // shorter than the backoff: ignored
}

TEST(RetryScheduleTest, PastTheHorizonTheDeliveryIsDead) {
  RetryPolicy p;
  p.horizon_s = 60;
  EXPECT_EQ(NextAttemptMs(p, 3, 55'000, 0, std::nullopt, 0.0), 57'000);
  EXPECT_EQ(NextAttemptMs(p, 3, 58'000, 0, std::nullopt, 0.0), 60'000);  // exactly at the horizon
  EXPECT_EQ(NextAttemptMs(p, 3, 58'001, 0, std::nullopt, 0.0), std::nullopt);
  EXPECT_EQ(NextAttemptMs(p, 1, 0, 0, 61'000, 0.0), std::nullopt);  // a Retry-After beyond it
}

}  // namespace
}  // namespace tokenmeter
