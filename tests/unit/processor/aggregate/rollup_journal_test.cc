// The rollup journal on a real RocksDB in a temp dir: a batch's 1-minute deltas are
// readable as soon as published, fold into exact minute, hour and day rows, survive a
// restart until folded, are never counted twice however a read and a fold interleave,
// and a journal that cannot keep up (folds failing) holds new batches back.
#include "aggregate/rollup_journal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <tuple>

#include "aggregate/batch_rollups.h"
#include "retention.h"
#include "rollup_reader.h"
#include "state/fixed_codec.h"
#include "temp_dir.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {
namespace {

using testing::CallCounters;

UsageEvent At(const char* t) {
  UsageEvent e;
  e.workspace = "acme";
  e.environment = "prod";
  e.endpoint_tag = "chat";
  e.user_id = "u1";
  e.occurred_at = *ParseRfc3339(t);
  return e;
}

class RollupJournalTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen(size_t max_pending_rows = RollupJournal::kDefaultMaxPendingRows,
              size_t fold_chunk_rows = RollupJournal::kDefaultFoldChunkRows) {
    journal_.reset();
    store_.reset();
    auto s = StateStore::Open(dir_.path().string(), ProcessorStateOptions());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    auto j = RollupJournal::Open(*store_, max_pending_rows, fold_chunk_rows);
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    journal_ = std::move(*j);
  }
  // Stages, commits and publishes one batch of (event, counters).
  Status Apply(const std::vector<std::pair<UsageEvent, RollupCounters>>& events) {
    BatchRollups rollups;
    for (const auto& [e, c] : events) rollups.Add(e, c, /*duplicate_only=*/false);
    StateStore::Batch batch = store_->NewBatch();
    Result<RollupJournal::Staged> staged = journal_->Stage(batch, rollups.Finish());
    if (!staged.ok()) return staged.status();
    RETURN_IF_ERROR(store_->Commit(batch));
    journal_->Publish(std::move(*staged));
    return Status::Ok();
  }
  RollupCounters Read(Granularity g, Dimension d, const char* bucket, std::string_view value = "") {
    return testing::ReadRollup(*journal_, "acme", DataMode::kReal, g, d, *ParseRfc3339(bucket), "prod", value);
  }
  std::map<std::string, RollupCounters> Rows(Family f, const std::string& begin = "",
                                               const std::string& end = "\xff") {
    std::map<std::string, RollupCounters> rows;
    EXPECT_TRUE(store_->Scan(f, begin, end, [&](std::string_view k, std::string_view v) {
      rows[std::string(k)] = RollupCounters::Decode(v);
      return true;
    }).ok());
    return rows;
  }
  size_t JournalRows() {
    size_t n = 0;
    EXPECT_TRUE(store_->Scan(Family::kMeta, std::string("rollup_journal\0", 15), "rollup_journal\1",
                             [&](std::string_view, std::string_view) { return ++n > 0; }).ok());
    return n;
  }

  testing::TempDir dir_{"tm-journal"};
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<RollupJournal> journal_;
};

// A read of some values (a prefix, or one value exactly) seeks through each bucket and
// scope of folded rows and filters the unfolded ones: it gives exactly the rows a full scan
// filtered the same way gives, whatever the values sort before, among or after the run.
TEST_F(RollupJournalTest, AFilteredReadGivesTheRowsAFullScanFilteredTheSameWayGives) {
  const char* users[] = {"", "a", "u", "u1", "u10", "u1\x7f", "u2", "v", "zz"};
  std::vector<std::pair<UsageEvent, RollupCounters>> events;
  int64_t n = 0;
  for (const char* t : {"2026-02-07T10:15:00.000Z", "2026-02-07T11:20:00.000Z", "2026-02-08T00:01:00.000Z"}) {
    for (const char* env : {"dev", "prod"}) {
      for (const char* project : {"", "p", "p1"}) {
        for (const char* user : users) {
          if (++n % 4 == 0) continue;  // not every value in every scope
          UsageEvent e = At(t);
          e.environment = env;
          e.project = project;
          e.user_id = user;
          events.push_back({e, CallCounters(n, 5)});
        }
      }
    }
  }
  auto read = [&](Granularity g, ValueFilter want) {
    std::map<std::string, int64_t> got;
    RollupRange r = MakeRollupRange("acme", DataMode::kReal, g, Dimension::kUser, *ParseRfc3339("2026-02-01T00:00:00Z"),
                                    *ParseRfc3339("2026-03-01T00:00:00Z"));
    EXPECT_TRUE(journal_->Scan(r, [&](TimePoint bucket, RollupScope scope, std::string_view value, const RollupCounters& c) {
      got[FormatRfc3339(bucket) + "|" + std::string(scope.environment) + "|" + std::string(scope.project) + "|" +
          std::string(value)] += c.v[kCostNano];
    }, want).ok());
    return got;
  };
  auto filtered = [](std::map<std::string, int64_t> all, ValueFilter want) {
    std::erase_if(all, [&](const auto& row) { return !want.Wants(row.first.substr(row.first.rfind('|') + 1)); });
    return all;
  };
  const std::vector<ValueFilter> filters = {{"u1", false}, {"u1", true},   {"", true},     {"u", false},
                                            {"a", true},   {"zz", false},  {"zzz", false}, {"0", true},
                                            {"u10", true}, {"u1\x7f", true}};
  ASSERT_TRUE(Apply(std::vector(events.begin(), events.begin() + 60)).ok());
  ASSERT_TRUE(journal_->Fold().ok());
  ASSERT_TRUE(Apply(std::vector(events.begin() + 60, events.end())).ok());  // some folded, some not
  for (Granularity g : kGranularities) {
    const std::map<std::string, int64_t> all = read(g, {});
    ASSERT_GT(all.size(), 40u);
    for (const ValueFilter& f : filters) {
      EXPECT_EQ(read(g, f), filtered(all, f)) << static_cast<char>(g) << " " << f.text << (f.exact ? " exact" : " prefix");
    }
    EXPECT_EQ(filtered(all, {"u1", false}).size(), filtered(all, {"u1", true}).size() + filtered(all, {"u10", false}).size() +
                                                       filtered(all, {"u1\x7f", false}).size());
  }
  ASSERT_TRUE(journal_->Fold().ok());
  for (Granularity g : kGranularities) {
    const std::map<std::string, int64_t> all = read(g, {});
    for (const ValueFilter& f : filters) EXPECT_EQ(read(g, f), filtered(all, f)) << f.text;
  }
}

TEST_F(RollupJournalTest, FoldWritesExactMinuteHourAndDayRowsFromTheMinuteDeltas) {
  // Two events in the last minute of Feb 7 and one in the first minute of Feb 8, over two
  // batches: the stored rows are what adding each event to its own rows would give.
  std::vector<std::pair<UsageEvent, RollupCounters>> events = {
      {At("2026-02-07T23:59:30.000Z"), CallCounters(5, 10)},
      {At("2026-02-07T23:59:50.000Z"), CallCounters(7, 200)},
      {At("2026-02-08T00:00:10.000Z"), CallCounters(11, 10)}};
  std::map<std::string, RollupCounters> expected;
  for (const auto& [e, c] : events) {
    for (Granularity g : kGranularities) {
      for (auto [d, v] : {std::pair{Dimension::kTotal, std::string_view()}, {Dimension::kEndpointTag, "chat"},
                          {Dimension::kUser, "u1"}, {Dimension::kStatus, "unknown"}, {Dimension::kModel, ""},
                          {Dimension::kProvider, ""}, {Dimension::kTenant, ""},
                          {Dimension::kFeatureModel, std::string_view("chat\0", 5)}}) {
        expected[RollupKey(e.workspace, e.data_mode, g, d, BucketStart(e.occurred_at, g), {"prod", ""}, v)].Add(c);
      }
    }
  }
  ASSERT_TRUE(Apply({events[0]}).ok());
  ASSERT_TRUE(Apply({events[1], events[2]}).ok());
  EXPECT_EQ(JournalRows(), 2u);
  EXPECT_EQ(journal_->PendingRows(), 2u * 8u);  // minute rows: 8 dimensions x 2 minutes
  EXPECT_TRUE(Rows(Family::kRollups).empty());

  ASSERT_TRUE(journal_->Fold().ok());
  EXPECT_EQ(Rows(Family::kRollups), expected);
  EXPECT_EQ(expected.size(), 3u * 8u * 2u);  // 3 granularities x 8 rows x 2 buckets
  EXPECT_EQ(JournalRows(), 0u);
  EXPECT_EQ(journal_->PendingRows(), 0u);
  // The day row of Feb 7 holds both of its events, latency sketch included.
  RollupCounters day = Read(Granularity::kDay, Dimension::kTotal, "2026-02-07T00:00:00.000Z");
  EXPECT_EQ(day.v[kRequests], 2);
  EXPECT_EQ(day.v[kCostNano], 12);
  EXPECT_EQ(*day.latency.Quantile(1.0), 208u);  // 200 ms lies in (1.1^55, 1.1^56] = (189.1, 207.97]
  // Nothing left to fold: a second fold changes nothing.
  ASSERT_TRUE(journal_->Fold().ok());
  EXPECT_EQ(Rows(Family::kRollups), expected);
}

TEST_F(RollupJournalTest, ReadersSeePublishedDeltasBeforeAndAfterTheFoldAlike) {
  ASSERT_TRUE(Apply({{At("2026-02-07T10:15:00.000Z"), CallCounters(100, 5)}}).ok());
  ASSERT_TRUE(journal_->Fold().ok());
  ASSERT_TRUE(Apply({{At("2026-02-07T10:59:59.999Z"), CallCounters(20, 5)},
                     {At("2026-02-07T11:00:00.000Z"), CallCounters(3, 5)}})
                  .ok());
  // Folded 100 + unfolded 20 in the 10:00 hour; the 11:00 hour only unfolded 3.
  auto check = [&] {
    EXPECT_EQ(Read(Granularity::kHour, Dimension::kTotal, "2026-02-07T10:00:00.000Z").v[kCostNano], 120);
    EXPECT_EQ(Read(Granularity::kHour, Dimension::kTotal, "2026-02-07T11:00:00.000Z").v[kCostNano], 3);
    EXPECT_EQ(Read(Granularity::kDay, Dimension::kUser, "2026-02-07T00:00:00.000Z", "u1").v[kCostNano], 123);
    EXPECT_EQ(Read(Granularity::kMinute, Dimension::kTotal, "2026-02-07T10:59:00.000Z").v[kCostNano], 20);
    EXPECT_EQ(Read(Granularity::kMinute, Dimension::kTotal, "2026-02-07T10:15:00.000Z").v[kRequests], 1);
    // A range of two hours sees each hour once.
    int64_t sum = 0, rows = 0;
    RollupRange r = MakeRollupRange("acme", DataMode::kReal, Granularity::kHour, Dimension::kTotal,
                                    *ParseRfc3339("2026-02-07T10:00:00.000Z"), *ParseRfc3339("2026-02-07T12:00:00.000Z"));
    EXPECT_TRUE(journal_->Scan(r, [&](TimePoint, RollupScope, std::string_view, const RollupCounters& c) {
      sum += c.v[kCostNano];
      ++rows;
    }).ok());
    EXPECT_EQ(sum, 123);
    EXPECT_GE(rows, 2);
  };
  check();
  ASSERT_TRUE(journal_->Fold().ok());
  check();
}

TEST_F(RollupJournalTest, UnfoldedDeltasSurviveARestartAndAreFoldedOnce) {
  ASSERT_TRUE(Apply({{At("2026-02-07T10:15:00.000Z"), CallCounters(100, 5)}}).ok());
  ASSERT_TRUE(journal_->Fold().ok());
  ASSERT_TRUE(Apply({{At("2026-02-07T10:16:00.000Z"), CallCounters(20, 5)}}).ok());
  ASSERT_TRUE(Apply({{At("2026-02-07T10:16:30.000Z"), CallCounters(3, 5)}}).ok());
  Reopen();  // as after a crash: two batches were committed and never folded
  EXPECT_EQ(journal_->PendingRows(), 8u);  // one minute's 8 rows, from two journal rows
  EXPECT_EQ(Read(Granularity::kDay, Dimension::kTotal, "2026-02-07T00:00:00.000Z").v[kCostNano], 123);
  ASSERT_TRUE(Apply({{At("2026-02-07T10:17:00.000Z"), CallCounters(1000, 5)}}).ok());
  ASSERT_TRUE(journal_->Fold().ok());
  Reopen();
  EXPECT_EQ(journal_->PendingRows(), 0u);
  EXPECT_EQ(JournalRows(), 0u);
  RollupCounters day = Read(Granularity::kDay, Dimension::kTotal, "2026-02-07T00:00:00.000Z");
  EXPECT_EQ(day.v[kCostNano], 1123);
  EXPECT_EQ(day.v[kRequests], 4);
  // Batches after a restart get journal rows of their own (not reusing a live row's key).
  ASSERT_TRUE(Apply({{At("2026-02-07T10:18:00.000Z"), CallCounters(1, 5)}}).ok());
  Reopen();
  EXPECT_EQ(Read(Granularity::kDay, Dimension::kTotal, "2026-02-07T00:00:00.000Z").v[kCostNano], 1124);
}

// Three batches over three hours of two days: 8 dimensions x 4 minutes = 32 minute rows,
// folded 5 minute rows a chunk. Every read between chunks sees each event once.
class ChunkedFoldTest : public RollupJournalTest {
 protected:
  void SetUp() override {
    Reopen(RollupJournal::kDefaultMaxPendingRows, /*fold_chunk_rows=*/5);
    ASSERT_TRUE(Apply({{At("2026-02-07T10:15:00.000Z"), CallCounters(100, 5)}}).ok());
    ASSERT_TRUE(Apply({{At("2026-02-07T10:16:00.000Z"), CallCounters(20, 7)},
                       {At("2026-02-07T23:59:00.000Z"), CallCounters(3, 9)}}).ok());
    ASSERT_TRUE(Apply({{At("2026-02-08T00:00:30.000Z"), CallCounters(1000, 11)}}).ok());
    ASSERT_EQ(journal_->PendingRows(), 32u);
  }
  // The totals of every granularity, as a reader sees them now.
  void ExpectExact(const std::string& when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(Read(Granularity::kDay, Dimension::kTotal, "2026-02-07T00:00:00.000Z").v[kCostNano], 123);
    EXPECT_EQ(Read(Granularity::kDay, Dimension::kUser, "2026-02-08T00:00:00.000Z", "u1").v[kCostNano], 1000);
    EXPECT_EQ(Read(Granularity::kHour, Dimension::kEndpointTag, "2026-02-07T10:00:00.000Z", "chat").v[kRequests], 2);
    EXPECT_EQ(Read(Granularity::kMinute, Dimension::kTotal, "2026-02-07T23:59:00.000Z").v[kCostNano], 3);
    int64_t sum = 0;
    for (Dimension d : {Dimension::kTotal, Dimension::kEndpointTag, Dimension::kUser, Dimension::kStatus,
                        Dimension::kModel, Dimension::kProvider, Dimension::kTenant, Dimension::kFeatureModel}) {
      RollupRange r = MakeRollupRange("acme", DataMode::kReal, Granularity::kMinute, d,
                                      *ParseRfc3339("2026-02-07T00:00:00.000Z"), *ParseRfc3339("2026-02-09T00:00:00.000Z"));
      EXPECT_TRUE(journal_->Scan(r, [&](TimePoint, RollupScope, std::string_view, const RollupCounters& c) {
        sum += c.v[kCostNano];
      }).ok());
    }
    EXPECT_EQ(sum, 8 * 1123) << "each of the 8 dimensions' minute rows once";
  }
  std::map<std::string, RollupCounters> Expected() {
    std::map<std::string, RollupCounters> rows;
    for (auto [t, cost, latency] : {std::tuple{"2026-02-07T10:15:00.000Z", 100, 5}, {"2026-02-07T10:16:00.000Z", 20, 7},
                                    {"2026-02-07T23:59:00.000Z", 3, 9}, {"2026-02-08T00:00:30.000Z", 1000, 11}}) {
      UsageEvent e = At(t);
      for (Granularity g : kGranularities) {
        for (auto [d, v] : {std::pair{Dimension::kTotal, std::string_view()}, {Dimension::kEndpointTag, "chat"},
                            {Dimension::kUser, "u1"}, {Dimension::kStatus, "unknown"}, {Dimension::kModel, ""},
                            {Dimension::kProvider, ""}, {Dimension::kTenant, ""},
                            {Dimension::kFeatureModel, std::string_view("chat\0", 5)}}) {
          rows[RollupKey(e.workspace, e.data_mode, g, d, BucketStart(e.occurred_at, g), {"prod", ""}, v)].Add(
              CallCounters(cost, latency));
        }
      }
    }
    return rows;
  }
  bool ProgressRow() {
    Result<std::optional<std::string>> r = store_->Get(Family::kMeta, "rollup_fold_progress");
    return r.ok() && r->has_value();
  }
};

TEST_F(ChunkedFoldTest, AFoldInChunksIsExactAndReadersSeeEachRowOnceBetweenThem) {
  ExpectExact("published");
  for (int chunk = 1; chunk <= 6; ++chunk) {  // 32 rows: 7 chunks of 5 at most
    ASSERT_TRUE(journal_->Fold(/*max_chunks=*/1).ok());
    ExpectExact("after chunk " + std::to_string(chunk));
    EXPECT_TRUE(ProgressRow());
    EXPECT_EQ(JournalRows(), 3u) << "kept until the last chunk";
    EXPECT_EQ(journal_->PendingRows(), 32u);
  }
  ASSERT_TRUE(journal_->Fold(1).ok());
  ExpectExact("folded");
  EXPECT_FALSE(ProgressRow());
  EXPECT_EQ(JournalRows(), 0u);
  EXPECT_EQ(journal_->PendingRows(), 0u);
  EXPECT_EQ(Rows(Family::kRollups), Expected());
}

TEST_F(ChunkedFoldTest, AFoldCutShortIsFinishedAtOpenOnceAndLaterBatchesAreKept) {
  ASSERT_TRUE(journal_->Fold(/*max_chunks=*/2).ok());
  // Published after the fold began (the next generation), never folded.
  ASSERT_TRUE(Apply({{At("2026-02-07T10:15:00.000Z"), CallCounters(7000, 5)}}).ok());
  ASSERT_TRUE(ProgressRow());
  Reopen(RollupJournal::kDefaultMaxPendingRows, 5);  // as after a crash between chunks
  EXPECT_FALSE(ProgressRow()) << "finished by Open";
  EXPECT_EQ(JournalRows(), 1u) << "the later batch's row only";
  EXPECT_EQ(journal_->PendingRows(), 8u);
  EXPECT_EQ(Read(Granularity::kDay, Dimension::kTotal, "2026-02-07T00:00:00.000Z").v[kCostNano], 7123);
  ASSERT_TRUE(journal_->Fold().ok());
  std::map<std::string, RollupCounters> expected = Expected();
  UsageEvent later = At("2026-02-07T10:15:00.000Z");
  for (Granularity g : kGranularities) {
    for (auto [d, v] : {std::pair{Dimension::kTotal, std::string_view()}, {Dimension::kEndpointTag, "chat"},
                        {Dimension::kUser, "u1"}, {Dimension::kStatus, "unknown"}, {Dimension::kModel, ""},
                        {Dimension::kProvider, ""}, {Dimension::kTenant, ""},
                        {Dimension::kFeatureModel, std::string_view("chat\0", 5)}}) {
      expected[RollupKey("acme", DataMode::kReal, g, d, BucketStart(later.occurred_at, g), {"prod", ""}, v)].Add(
          CallCounters(7000, 5));
    }
  }
  EXPECT_EQ(Rows(Family::kRollups), expected) << "every row once: the committed chunks not again";
  Reopen(RollupJournal::kDefaultMaxPendingRows, 5);
  EXPECT_EQ(Rows(Family::kRollups), expected);
}

TEST_F(RollupJournalTest, ABatchLargerThanOneJournalRowIsSplitAndReadBackWhole) {
  // 50,000 users in one batch: 50,007 minute rows of ~13 bytes each in the compact
  // layout (the key's user id and the counters; the rest of the key is shared with the
  // row before), ~650 KiB, more than one journal row of ~256 KiB. Every delta is read
  // back after a restart, and folded once.
  constexpr int64_t kUsers = 50000;
  std::vector<std::pair<UsageEvent, RollupCounters>> events;
  for (int64_t i = 0; i < kUsers; ++i) {
    UsageEvent e = At("2026-02-07T10:15:00.000Z");
    e.user_id = "user-" + std::to_string(i);
    events.push_back({e, CallCounters(i, 5)});
  }
  ASSERT_TRUE(Apply(events).ok());
  EXPECT_GE(JournalRows(), 2u);
  Reopen();
  EXPECT_EQ(journal_->PendingRows(), kUsers + 7u);  // a row per user, 7 shared by all
  RollupCounters day = Read(Granularity::kDay, Dimension::kTotal, "2026-02-07T00:00:00.000Z");
  EXPECT_EQ(day.v[kRequests], kUsers);
  EXPECT_EQ(day.v[kCostNano], (kUsers - 1) * kUsers / 2);
  EXPECT_EQ(Read(Granularity::kHour, Dimension::kUser, "2026-02-07T10:00:00.000Z", "user-49999")
                .v[kCostNano],
            49999);
  EXPECT_EQ(
      Read(Granularity::kHour, Dimension::kUser, "2026-02-07T10:00:00.000Z", "user-0").v[kRequests],
      1);
  ASSERT_TRUE(journal_->Fold().ok());
  EXPECT_EQ(JournalRows(), 0u);
  Reopen();
  EXPECT_EQ(Read(Granularity::kDay, Dimension::kTotal, "2026-02-07T00:00:00.000Z").v[kCostNano],
            (kUsers - 1) * kUsers / 2);
  EXPECT_EQ(Rows(Family::kRollups).size(), 3u * (kUsers + 7u));
}

// The journal was most of the bytes a small batch wrote (a WAL record and a memtable
// entry per batch): its rows share most of their keys and hold mostly zero counters.
TEST_F(RollupJournalTest, AJournalRowIsAThirdOfTheFirstLayoutAtMostAndReadsBackExactly) {
  BatchRollups rollups;
  for (int i = 0; i < 100; ++i) {
    UsageEvent e = At("2026-02-07T10:15:00.000Z");
    e.user_id = "u" + std::to_string(i % 40);
    e.prompt_version = i % 2 ? "v1" : "v2";
    RollupCounters c = CallCounters(1'000'003 * i, 300 + 17 * i);
    c.v[kInputTokens] = 1200 + i;
    c.v[kOutputTokens] = 80 + i;
    rollups.Add(e, c, /*duplicate_only=*/false);
  }
  RollupDeltas rows = rollups.Finish();
  size_t first_layout = 1;
  for (const RollupDelta& r : rows) first_layout += 8 + r.key.size() + r.counters->EncodedSize();
  std::map<std::string, RollupCounters> expected;
  for (const RollupDelta& r : rows) expected[std::string(r.key)] = *r.counters;
  {
    StateStore::Batch batch = store_->NewBatch();  // gone before the store is reopened
    Result<RollupJournal::Staged> staged = journal_->Stage(batch, rows);
    ASSERT_TRUE(staged.ok());
    ASSERT_TRUE(store_->Commit(batch).ok());
    journal_->Publish(std::move(*staged));
  }
  std::vector<std::string> parts;
  ASSERT_TRUE(store_
                  ->Scan(Family::kMeta, std::string("rollup_journal\0", 15), "rollup_journal\1",
                         [&](std::string_view, std::string_view v) {
                           parts.emplace_back(v);
                           return true;
                         })
                  .ok());
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0][0], 2);  // the compact layout
  EXPECT_LE(parts[0].size() * 3, first_layout)
      << parts[0].size() << " bytes against " << first_layout;
  Reopen();  // replayed from the journal row alone
  EXPECT_EQ(journal_->PendingRows(), expected.size());
  ASSERT_TRUE(journal_->Fold().ok());
  std::map<std::string, RollupCounters> minutes;
  for (auto& [k, c] : Rows(Family::kRollups)) {
    if (k[RollupGranularityAt(k)] == static_cast<char>(Granularity::kMinute)) minutes[k] = c;
  }
  EXPECT_EQ(minutes, expected);
}

// A journal part of any layout but the compact one cannot be replayed: the store refuses
// to open rather than lose its counts.
TEST_F(RollupJournalTest, AJournalRowOfAnotherLayoutIsRefusedOnOpen) {
  std::string key("rollup_journal\0", 15);
  AppendBigEndian(key, 9);
  AppendBigEndian(key, 0, 4);
  {
    StateStore::Batch batch = store_->NewBatch();  // gone before the store is reopened
    batch.Put(Family::kMeta, key, std::string("\x01\x00\x00\x00\x03" "abc", 8));
    ASSERT_TRUE(store_->Commit(batch).ok());
  }
  journal_.reset();
  Result<std::unique_ptr<RollupJournal>> reopened = RollupJournal::Open(*store_);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().message(),
            "rollup journal row 9/0 cannot be read (8 bytes); its counts would be lost");
}

TEST_F(RollupJournalTest, ABatchThatNeverCommittedLeavesNoTrace) {
  BatchRollups rollups;
  rollups.Add(At("2026-02-07T10:15:00.000Z"), CallCounters(100, 5), false);
  {
    StateStore::Batch batch = store_->NewBatch();
    ASSERT_TRUE(journal_->Stage(batch, rollups.Finish()).ok());
  }  // dropped: the commit failed or the process died
  EXPECT_EQ(Read(Granularity::kDay, Dimension::kTotal, "2026-02-07T00:00:00.000Z").v[kRequests], 0);
  ASSERT_TRUE(journal_->Fold().ok());
  Reopen();
  EXPECT_EQ(JournalRows(), 0u);
  EXPECT_EQ(Read(Granularity::kDay, Dimension::kTotal, "2026-02-07T00:00:00.000Z").v[kRequests], 0);
  EXPECT_TRUE(Rows(Family::kRollups).empty());
}

TEST_F(RollupJournalTest, NewBatchesAreHeldBackWhileTooManyRowsWaitForAFold) {
  Reopen(/*max_pending_rows=*/10);
  ASSERT_TRUE(Apply({{At("2026-02-07T10:15:00.000Z"), CallCounters(1, 5)}}).ok());  // 8 rows
  ASSERT_TRUE(Apply({{At("2026-02-07T10:16:00.000Z"), CallCounters(2, 5)}}).ok());  // 16 rows
  Status refused = Apply({{At("2026-02-07T10:17:00.000Z"), CallCounters(4, 5)}});
  EXPECT_EQ(refused.code(), Code::kUnavailable);
  EXPECT_EQ(refused.message(), "rollup journal: 16 rows wait for a fold (folds are behind or failing); batch postponed");
  EXPECT_EQ(JournalRows(), 2u);
  ASSERT_TRUE(journal_->Fold().ok());
  ASSERT_TRUE(Apply({{At("2026-02-07T10:17:00.000Z"), CallCounters(4, 5)}}).ok());
  EXPECT_EQ(Read(Granularity::kDay, Dimension::kTotal, "2026-02-07T00:00:00.000Z").v[kCostNano], 7);
}

TEST_F(RollupJournalTest, AJournalRowThatCannotBeReadStopsTheOpenWithAClearError) {
  ASSERT_TRUE(Apply({{At("2026-02-07T10:15:00.000Z"), CallCounters(1, 5)}}).ok());
  std::string key("rollup_journal\0", 15);
  AppendBigEndian(key, 7);
  AppendBigEndian(key, 2, 4);
  StateStore::Batch batch = store_->NewBatch();
  batch.Put(Family::kMeta, key, std::string("\x01\x00\x00", 3));  // a length cut short
  ASSERT_TRUE(store_->Commit(batch).ok());
  journal_.reset();
  auto j = RollupJournal::Open(*store_);
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().message(), "rollup journal row 7/2 cannot be read (3 bytes); its counts would be lost");
}

// The same for the compact layout: a row cut short, a key that claims more shared bytes
// than the row before had, a key that is not a 1-minute rollup key, counters with a field
// that does not exist. Each stops the open instead of being half read.
TEST_F(RollupJournalTest, ACompactJournalRowThatCannotBeReadStopsTheOpenWithAClearError) {
  ASSERT_TRUE(Apply({{At("2026-02-07T10:15:00.000Z"), CallCounters(1, 5)}}).ok());
  std::string good;  // the committed row, compact
  ASSERT_TRUE(store_
                  ->Scan(Family::kMeta, std::string("rollup_journal\0", 15), "rollup_journal\1",
                         [&](std::string_view, std::string_view v) {
                           good = std::string(v);
                           return false;
                         })
                  .ok());
  ASSERT_EQ(good[0], 2);
  const std::string minute_key =
      RollupKey("acme", DataMode::kReal, Granularity::kMinute, Dimension::kTotal,
                *ParseRfc3339("2026-02-07T10:15:00.000Z"), {"prod", ""}, "");
  ASSERT_LT(minute_key.size(), 126u);     // lengths below fit one varint byte
  const std::string zero("\x00\x00", 2);  // counters: no field, no bucket
  auto row = [](size_t shared, const std::string& rest, std::string_view counters) {
    std::string out;
    out += static_cast<char>(shared);
    out += static_cast<char>(rest.size());
    out += rest;
    out += counters;
    return out;
  };
  // Each is a well-formed part but for one thing.
  const std::string bad[] = {
      good.substr(0, good.size() - 1),  // cut short
      "\x02" + row(0, minute_key, zero) +
          row(minute_key.size() + 1, "", zero),                     // shares more than it has
      "\x02" + row(0, "not-a-rollup-key", zero),                    // no 1-minute key
      "\x02" + row(0, minute_key, std::string("\x80\x40\x00", 3)),  // field 13, none after
  };
  for (const std::string& part : bad) {
    journal_.reset();
    std::string key("rollup_journal\0", 15);
    AppendBigEndian(key, 7);
    AppendBigEndian(key, 2, 4);
    {
      StateStore::Batch batch = store_->NewBatch();
      batch.Put(Family::kMeta, key, part);
      ASSERT_TRUE(store_->Commit(batch).ok());
    }
    auto j = RollupJournal::Open(*store_);
    ASSERT_FALSE(j.ok()) << part.size();
    EXPECT_EQ(j.status().message(), "rollup journal row 7/2 cannot be read (" +
                                        std::to_string(part.size()) +
                                        " bytes); its counts would be lost");
  }
}

TEST_F(RollupJournalTest, ReadsDuringFoldsNeverCountADeltaTwiceOrMissAPublishedOne) {
  // One writer publishes 1-request batches into the same rows while a folder folds
  // continuously; every read must lie between what was published before it started and
  // what was being published when it ended.
  constexpr int kBatches = 1500;
  std::atomic<int> started{0}, published{0};
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < kBatches; ++i) {
      started.store(i + 1);
      if (!Apply({{At("2026-02-07T10:15:00.000Z"), CallCounters(1, 5)}}).ok()) break;
      published.store(i + 1);
    }
    done = true;
  });
  std::thread folder([&] {
    while (!done.load()) EXPECT_TRUE(journal_->Fold().ok());
  });
  int reads = 0, missed = 0, doubled = 0;
  while (!done.load() || reads < 10) {
    int before = published.load();
    int64_t seen = Read(Granularity::kHour, Dimension::kTotal, "2026-02-07T10:00:00.000Z").v[kRequests];
    int after = started.load();
    missed += seen < before;
    doubled += seen > after;
    ++reads;
  }
  writer.join();
  folder.join();
  EXPECT_EQ(missed, 0) << "of " << reads << " reads";
  EXPECT_EQ(doubled, 0) << "of " << reads << " reads";
  EXPECT_EQ(published.load(), kBatches);
  ASSERT_TRUE(journal_->Fold().ok());
  EXPECT_EQ(Read(Granularity::kDay, Dimension::kTotal, "2026-02-07T00:00:00.000Z").v[kRequests], kBatches);
  auto stored = Rows(Family::kRollups);
  EXPECT_EQ(stored.at(RollupKey("acme", DataMode::kReal, Granularity::kMinute, Dimension::kTotal,
                                *ParseRfc3339("2026-02-07T10:15:00.000Z"), {"prod", ""}, ""))
                .v[kRequests],
            kBatches);
}

}  // namespace
}  // namespace tokenmeter
