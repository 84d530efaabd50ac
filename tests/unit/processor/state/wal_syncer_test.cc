// WalSyncer: positions come back only from a sync that started after they were handed
// over; a failed sync reports its error once and hands back nothing; stopping syncs what
// was handed over and not yet synced, without waiting out the interval between syncs.
#include "state/wal_syncer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace tokenmeter {
namespace {

using Positions = std::map<int, int64_t>;

// A sync function each call of which waits until the test lets it finish.
class GatedSync {
 public:
  Status Sync() {
    std::unique_lock lock(mu_);
    ++entered_;
    starts_.push_back(std::chrono::steady_clock::now());
    cv_.notify_all();
    cv_.wait(lock, [this] { return released_ >= entered_; });
    return entered_ <= failing_ ? Unavailable("disk gone") : Status::Ok();
  }
  // Waits (at most 5 s) until `n` calls have begun.
  bool WaitEntered(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return entered_ >= n; });
  }
  void Release(int n) {
    std::lock_guard lock(mu_);
    released_ = n;
    cv_.notify_all();
  }
  void FailFirst(int n) {
    std::lock_guard lock(mu_);
    failing_ = n;
  }
  int entered() {
    std::lock_guard lock(mu_);
    return entered_;
  }
  std::vector<std::chrono::steady_clock::time_point> starts() {
    std::lock_guard lock(mu_);
    return starts_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  int released_ = 0;
  int failing_ = 0;
  std::vector<std::chrono::steady_clock::time_point> starts_;
};

// TakeSynced until something comes back or an error does (at most 5 s).
Positions TakeWithin(WalSyncer& syncer, Status& error) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  for (;;) {
    Positions got = syncer.TakeSynced(error);
    if (!got.empty() || !error.ok() || std::chrono::steady_clock::now() > until) return got;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

TEST(WalSyncerTest, PositionsComeBackOnlyFromASyncThatStartedAfterThem) {
  GatedSync gate;
  WalSyncer syncer([&gate] { return gate.Sync(); });
  Status error;

  syncer.Request({{0, 100}});
  ASSERT_TRUE(gate.WaitEntered(1));
  // Handed over while the first sync runs: that sync may not cover their batches.
  syncer.Request({{0, 200}, {1, 50}});
  EXPECT_TRUE(syncer.TakeSynced(error).empty());  // the first sync has not finished

  gate.Release(1);
  EXPECT_EQ(TakeWithin(syncer, error), (Positions{{0, 100}}));
  EXPECT_TRUE(error.ok());
  ASSERT_TRUE(gate.WaitEntered(2));  // a second sync for what came during the first
  EXPECT_TRUE(syncer.TakeSynced(error).empty());

  gate.Release(2);
  EXPECT_EQ(TakeWithin(syncer, error), (Positions{{0, 200}, {1, 50}}));
  EXPECT_TRUE(error.ok());
  EXPECT_TRUE(syncer.TakeSynced(error).empty());  // each position is handed back once
  EXPECT_EQ(gate.entered(), 2);  // nothing new handed over: no sync without a request
}

TEST(WalSyncerTest, AFailedSyncReportsItsErrorOnceAndHandsBackNothing) {
  GatedSync gate;
  gate.FailFirst(1);
  gate.Release(100);  // no waiting in this test
  WalSyncer syncer([&gate] { return gate.Sync(); });
  Status error;

  syncer.Request({{0, 100}});
  Positions got = TakeWithin(syncer, error);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(error.code(), Code::kUnavailable);
  EXPECT_EQ(error.message(), "disk gone");
  EXPECT_TRUE(syncer.TakeSynced(error).empty());
  EXPECT_TRUE(error.ok());  // reported once

  // The next sync covers the failed one's batches too; its positions come back.
  syncer.Request({{0, 150}});
  EXPECT_EQ(TakeWithin(syncer, error), (Positions{{0, 150}}));
  EXPECT_TRUE(error.ok());
}

TEST(WalSyncerTest, StoppingSyncsWhatWasHandedOverAndNotYetSynced) {
  GatedSync gate;
  auto syncer = std::make_unique<WalSyncer>([&gate] { return gate.Sync(); });
  syncer->Request({{0, 100}});
  ASSERT_TRUE(gate.WaitEntered(1));
  syncer->Request({{0, 200}});  // after the running sync began: needs one more

  std::thread stopping([&syncer] { syncer.reset(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the stop begin first
  gate.Release(2);
  stopping.join();
  EXPECT_EQ(gate.entered(), 2);
}

TEST(WalSyncerTest, StoppingWithNothingHandedOverDoesNotSync) {
  GatedSync gate;
  gate.Release(100);
  {
    WalSyncer syncer([&gate] { return gate.Sync(); });
  }
  EXPECT_EQ(gate.entered(), 0);
}

TEST(WalSyncerTest, SyncsStartAtLeastTheIntervalApartAndRequestsMeanwhileShareOne) {
  GatedSync gate;
  gate.Release(100);
  const auto interval = std::chrono::milliseconds(500);
  WalSyncer syncer([&gate] { return gate.Sync(); }, interval);
  Status error;

  syncer.Request({{0, 1}});  // the first sync starts at once
  EXPECT_EQ(TakeWithin(syncer, error), (Positions{{0, 1}}));
  syncer.Request({{0, 2}});
  syncer.Request({{0, 3}, {1, 7}});
  EXPECT_EQ(TakeWithin(syncer, error), (Positions{{0, 3}, {1, 7}}));
  EXPECT_TRUE(error.ok());
  std::vector<std::chrono::steady_clock::time_point> starts = gate.starts();
  ASSERT_EQ(starts.size(), 2u);  // both later requests waited for the same second sync
  EXPECT_GE(starts[1] - starts[0], interval);
}

TEST(WalSyncerTest, StoppingDoesNotWaitOutTheInterval) {
  GatedSync gate;
  gate.Release(100);
  auto syncer =
      std::make_unique<WalSyncer>([&gate] { return gate.Sync(); }, std::chrono::seconds(60));
  Status error;
  syncer->Request({{0, 1}});
  EXPECT_EQ(TakeWithin(*syncer, error), (Positions{{0, 1}}));
  syncer->Request({{0, 2}});  // its sync is not due for a minute

  auto stopping = std::chrono::steady_clock::now();
  syncer.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(30));
  EXPECT_EQ(gate.entered(), 2);  // synced on the way out
}

}  // namespace
}  // namespace tokenmeter
