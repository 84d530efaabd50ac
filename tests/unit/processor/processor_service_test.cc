// ProcessorService over the embedded log (serve's bus) with read-ahead: the next poll is
// read and decoded while a large batch is applied; a failed batch drops what was read
// ahead and comes back to its stored offset, so every event is counted exactly once; a
// failed read-ahead poll loses nothing (the next round polls those records itself).
#include "processor_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "fake_publisher.h"
#include "retention.h"
#include "temp_dir.h"
#include "test_events.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/bus/embedded_log.h"
#include "tokenmeter/model/event_codec.h"

namespace tokenmeter {
namespace {

// The embedded log filled with `n` events of workspace acme (record `bad` not JSON), a
// store, a pipeline, and a ProcessorService with read-ahead in 1,200-record batches over
// `subscriber` (the log's own unless a test wraps it).
class ProcessorServiceTest : public ::testing::Test {
 protected:
  void Fill(int n, int bad) {
    auto log = EmbeddedLog::Open({dir_.path().string() + "/log", "events.log", 100000});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
    Append(0, n, bad);
    auto store = StateStore::Open(dir_.path().string() + "/state", ProcessorStateOptions());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto dedup = DedupIndex::Load(*store_);
    ASSERT_TRUE(dedup.ok());
    dedup_ = std::move(*dedup);
    auto journal = RollupJournal::Open(*store_);
    ASSERT_TRUE(journal.ok());
    journal_ = std::move(*journal);
    pipeline_ = std::make_unique<BatchPipeline>(
        *store_, *dedup_, *journal_, parser_, std::make_shared<const PriceBook>(*PriceBook::FromEmbedded()),
        "tokenmeter.events");
    auto sub =
        log_->Subscribe([this](int p) { return store_->NextOffset("tokenmeter.events", p); });
    ASSERT_TRUE(sub.ok());
    sub_ = std::move(*sub);
  }
  // Events r<first>..r<first + n - 1> of workspace acme; record `bad` not JSON.
  void Append(int first, int n, int bad) {
    const TimePoint at = *ParseRfc3339("2026-02-07T12:34:56.000Z");
    std::vector<BusRecord> records;
    for (int i = first; i < first + n; ++i) {
      std::string value = "{bad";
      if (i != bad) {
        value.clear();
        EncodeCanonical(testing::TestEvent("acme", "r" + std::to_string(i), "gpt-4o-mini", 850, 320, at),
                        value);
      }
      records.push_back({"acme", std::move(value)});
    }
    std::promise<Status> written;
    log_->Publish(std::move(records), [&written](Status s) { written.set_value(std::move(s)); });
    ASSERT_TRUE(written.get_future().get().ok());
  }
  void Start(Subscriber& subscriber, std::function<Status()> wal_sync = nullptr) {
    service_ = std::make_unique<ProcessorService>(
        *store_, *pipeline_, subscriber, dlq_, "tokenmeter.events",
        /*max_batch=*/1200, /*read_ahead=*/true, std::move(wal_sync));
  }
  int64_t Committed() {
    auto next = store_->NextOffset("tokenmeter.events", 0);
    return next.ok() && next->has_value() ? **next : -1;
  }

  testing::TempDir dir_{"tm-service"};
  IngestLimits limits_;
  Normalizer normalizer_ = *Normalizer::FromEmbeddedTable();
  EventParser parser_{limits_, normalizer_};
  std::unique_ptr<EmbeddedLog> log_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<DedupIndex> dedup_;
  std::unique_ptr<RollupJournal> journal_;
  std::unique_ptr<BatchPipeline> pipeline_;
  std::unique_ptr<Subscriber> sub_;
  testing::FakePublisher dlq_;
  std::unique_ptr<ProcessorService> service_;
};

TEST_F(ProcessorServiceTest, ReadAheadAfterAFailedBatchIsDroppedAndEveryEventCountsOnce) {
  // 2,500 records, the 101st not JSON (so the first batch has a dead letter to publish).
  Fill(2500, 100);
  Start(*sub_);
  ProcessorService& service = *service_;
  testing::FakePublisher& dlq = dlq_;
  Subscriber& sub = *sub_;

  // The first batch (records 0-1199) fails: its dead letter cannot be published. Records
  // 1200-2399 were read ahead meanwhile; they are dropped and the reader is back at 0.
  dlq.FailWith(Unavailable("dead-letter topic down"));
  Result<BatchStats> failed = service.RunOnce(std::chrono::milliseconds(100));
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(sub.Lag()[0], 2500);
  EXPECT_EQ(Committed(), -1);

  dlq.FailWith(Status::Ok());
  Result<BatchStats> first = service.RunOnce(std::chrono::milliseconds(100));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->counted, 1199u);
  EXPECT_EQ(first->dead_lettered, 1u);
  EXPECT_EQ(sub.Lag()[0], 100);      // 1200-2399 read ahead
  EXPECT_EQ(service.Lag()[0], 1300);  // not applied yet: what the lag gauge reports
  BatchStats total = *first;
  for (int i = 0; i < 5 && total.consumed < 2500; ++i) {
    Result<BatchStats> r = service.RunOnce(std::chrono::milliseconds(100));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    total.consumed += r->consumed;
    total.counted += r->counted;
    total.duplicates += r->duplicates;
    total.dead_lettered += r->dead_lettered;
  }
  EXPECT_EQ(total.consumed, 2500u);
  EXPECT_EQ(total.counted, 2499u);
  EXPECT_EQ(total.duplicates, 0u);
  EXPECT_EQ(total.dead_lettered, 1u);
  EXPECT_EQ(dlq.published().size(), 1u);
  EXPECT_EQ(Committed(), 2500);
}

// The log's subscriber with one chosen Poll failing (nothing read by it).
class PollFailsOnce : public Subscriber {
 public:
  PollFailsOnce(Subscriber& inner, int failing) : inner_(inner), failing_(failing) {}
  Result<std::vector<ConsumedRecord>> Poll(std::chrono::milliseconds timeout, size_t max) override {
    timeouts_.push_back(timeout);
    if (static_cast<int>(timeouts_.size()) == failing_) return Unavailable("log read failed");
    return inner_.Poll(timeout, max);
  }
  Status Seek(int partition, int64_t offset) override { return inner_.Seek(partition, offset); }
  void CommitForLag(const std::map<int, int64_t>& next) override {
    lag_commits_.push_back(next);
    inner_.CommitForLag(next);
  }
  std::set<int> Assigned() const override { return inner_.Assigned(); }
  std::set<int> HistoryLost() const override { return inner_.HistoryLost(); }
  std::map<int, int64_t> Lag() override { return inner_.Lag(); }
  std::optional<int> PartitionOf(std::string_view key) override { return inner_.PartitionOf(key); }
  void Close() override { inner_.Close(); }
  const std::vector<std::chrono::milliseconds>& timeouts() const { return timeouts_; }
  const std::vector<std::map<int, int64_t>>& lag_commits() const { return lag_commits_; }

 private:
  Subscriber& inner_;
  int failing_;
  std::vector<std::chrono::milliseconds> timeouts_;
  std::vector<std::map<int, int64_t>> lag_commits_;
};

TEST_F(ProcessorServiceTest, AFailedReadAheadPollLosesNothingAndTheNextRoundReadsThoseRecords) {
  Fill(2500, -1);
  PollFailsOnce flaky(*sub_, /*failing=*/2);  // the read-ahead poll of the first batch
  Start(flaky);

  // The first batch applies although reading ahead failed; nothing was read ahead.
  Result<BatchStats> first = service_->RunOnce(std::chrono::milliseconds(100));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(flaky.timeouts().size(), 2u);
  EXPECT_EQ(flaky.timeouts()[1], std::chrono::milliseconds(0));  // the read-ahead one
  EXPECT_EQ(first->counted, 1200u);
  EXPECT_EQ(Committed(), 1200);
  EXPECT_EQ(service_->Lag()[0], 1300);  // all unread, none held ahead

  // The next round polls those records itself (and reads 2400-2499 ahead).
  Result<BatchStats> second = service_->RunOnce(std::chrono::milliseconds(100));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->consumed, 1200u);
  EXPECT_EQ(second->counted, 1200u);
  EXPECT_EQ(Committed(), 2400);
  Result<BatchStats> third = service_->RunOnce(std::chrono::milliseconds(100));
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->counted, 100u);
  EXPECT_EQ(third->duplicates, 0u);
  EXPECT_EQ(Committed(), 2500);
  EXPECT_EQ(service_->Lag()[0], 0);
  EXPECT_TRUE(dlq_.published().empty());
  service_.reset();  // before `flaky`, which it reads from
}

TEST_F(ProcessorServiceTest, AppliedPositionsAreReportedForLagOnceTheirSyncHasRun) {
  Fill(500, -1);
  PollFailsOnce log(*sub_, /*failing=*/0);  // never fails: only records what is reported
  Start(log);

  Result<BatchStats> applied = service_->RunOnce(std::chrono::milliseconds(100));
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->counted, 500u);
  EXPECT_EQ(Committed(), 500);  // the offset is stored with the batch, synced or not
  // The sync runs on its own thread; later rounds (nothing new to read) report it.
  for (int i = 0; i < 500 && log.lag_commits().empty(); ++i) {
    Result<BatchStats> idle = service_->RunOnce(std::chrono::milliseconds(10));
    ASSERT_TRUE(idle.ok()) << idle.status().ToString();
    EXPECT_EQ(idle->consumed, 0u);
  }
  ASSERT_EQ(log.lag_commits().size(), 1u);
  EXPECT_EQ(log.lag_commits()[0], (std::map<int, int64_t>{{0, 500}}));
  Result<BatchStats> idle = service_->RunOnce(std::chrono::milliseconds(10));
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(log.lag_commits().size(), 1u);  // reported once
  service_.reset();                         // before `log`, which it reads from
}

TEST_F(ProcessorServiceTest, AFailedWalSyncFailsTheNextRoundBeforeItReadsAndLosesNoCount) {
  Fill(500, -1);
  PollFailsOnce log(*sub_, /*failing=*/0);
  std::atomic<int> syncs{0};
  Start(log, [this, &syncs] {
    return ++syncs == 1 ? Unavailable("disk gone") : store_->SyncWal();  // the first fails
  });

  Result<BatchStats> applied = service_->RunOnce(std::chrono::milliseconds(100));
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(applied->counted, 500u);  // counted by the round that applied them
  // The sync runs on its own thread: a later round reports its failure.
  size_t polls = log.timeouts().size();
  Result<BatchStats> failed = service_->RunOnce(std::chrono::milliseconds(10));
  for (int i = 0; i < 500 && failed.ok(); ++i) {
    EXPECT_EQ(failed->consumed, 0u);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    polls = log.timeouts().size();
    failed = service_->RunOnce(std::chrono::milliseconds(10));
  }
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kUnavailable);
  EXPECT_EQ(failed.status().message(), "disk gone");
  EXPECT_EQ(log.timeouts().size(), polls);  // the failing round read nothing
  EXPECT_TRUE(log.lag_commits().empty());   // the failed sync's positions are not reported

  // The next round reads on; the next sync covers both batches.
  Append(500, 100, -1);
  Result<BatchStats> next = service_->RunOnce(std::chrono::milliseconds(100));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->counted, 100u);
  EXPECT_EQ(Committed(), 600);
  for (int i = 0; i < 500 && log.lag_commits().empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(service_->RunOnce(std::chrono::milliseconds(10)).ok());
  }
  ASSERT_EQ(log.lag_commits().size(), 1u);
  EXPECT_EQ(log.lag_commits()[0], (std::map<int, int64_t>{{0, 600}}));
  EXPECT_EQ(syncs.load(), 2);
  service_.reset();  // before `log`, which it reads from
}

}  // namespace
}  // namespace tokenmeter
