// The embedded log on real files: acknowledged means durable across reopen, a torn tail
// is cut off, concurrent publishers are all acknowledged, subscribers start at the stored
// offset, a state ahead of the log is refused, segments roll and retention drops only
// what is applied and old enough.
#include "tokenmeter/bus/embedded_log.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "temp_dir.h"

namespace tokenmeter {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class EmbeddedLogTest : public ::testing::Test {
 protected:

  std::unique_ptr<EmbeddedLog> Open() {
    auto log = EmbeddedLog::Open({dir_.path().string()});
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(*log) : nullptr;
  }
  static Status PublishSync(EmbeddedLog& log, std::vector<BusRecord> records) {
    std::promise<Status> p;
    log.Publish(std::move(records), [&](Status s) { p.set_value(s); });
    return p.get_future().get();
  }
  // Closes `log`, opens its file again (nothing may be cut off) and reads every record.
  std::vector<ConsumedRecord> ReopenAndReadAll(std::unique_ptr<EmbeddedLog>& log) {
    log.reset();
    log = Open();
    EXPECT_EQ(log->RepairedBytes(), 0u);
    return ReadAll(*log, std::nullopt);
  }
  static std::vector<ConsumedRecord> ReadAll(EmbeddedLog& log, std::optional<int64_t> from) {
    auto sub = log.Subscribe([from](int) -> Result<std::optional<int64_t>> { return from; });
    EXPECT_TRUE(sub.ok());
    auto got = (*sub)->Poll(10ms, 100000);
    EXPECT_TRUE(got.ok());
    return *got;
  }

  // The file of the segment whose first record is `base`.
  fs::path Segment(int64_t base) const {
    char digits[24];
    std::snprintf(digits, sizeof(digits), "%020lld", static_cast<long long>(base));
    return dir_.path() / ("events." + std::string(digits) + ".log");
  }
  // Every record from `from` on, polling across segments until none come.
  static std::vector<ConsumedRecord> ReadEvery(Subscriber& sub) {
    std::vector<ConsumedRecord> out;
    for (;;) {
      auto got = sub.Poll(10ms, 100000);
      EXPECT_TRUE(got.ok()) << got.status().ToString();
      if (!got.ok() || got->empty()) return out;
      out.insert(out.end(), got->begin(), got->end());
    }
  }

  testing::TempDir dir_{"tm-elog"};
};

TEST_F(EmbeddedLogTest, AcknowledgedRecordsSurviveReopenInOrder) {
  {
    auto log = Open();
    ASSERT_TRUE(PublishSync(*log, {{"acme", "one"}, {"acme", "two"}}).ok());
    ASSERT_TRUE(PublishSync(*log, {{"globex", std::string("bin\0ary", 7)}}).ok());
    EXPECT_EQ(log->End(), 3);
  }
  auto log = Open();
  EXPECT_EQ(log->End(), 3);
  EXPECT_EQ(log->RepairedBytes(), 0u);
  std::vector<ConsumedRecord> all = ReadAll(*log, std::nullopt);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].offset, 0);
  EXPECT_EQ(all[0].key, "acme");
  EXPECT_EQ(all[1].value, "two");
  EXPECT_EQ(all[2].key, "globex");
  EXPECT_EQ(all[2].value, std::string("bin\0ary", 7));
}

// One writer per log: a second open of the same log (another serve on the same data_dir)
// is refused before it reads or repairs anything; another log beside it opens; once the
// first is closed the log opens again with every record.
TEST_F(EmbeddedLogTest, ASecondOpenOfTheSameLogIsRefusedWhileTheFirstHoldsIt) {
  auto log = Open();
  ASSERT_TRUE(PublishSync(*log, {{"acme", "one"}}).ok());
  auto second = EmbeddedLog::Open({dir_.path().string()});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(second.status().message(),
            "the embedded log " + dir_.path().string() + "/events.log is in use by another process (" +
                dir_.path().string() + "/events.lock is locked): stop it first, or give this one another directory");
  auto beside = EmbeddedLog::Open({dir_.path().string(), "dlq.log"});
  EXPECT_TRUE(beside.ok()) << beside.status().ToString();
  log.reset();
  log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->End(), 1);
}

// Reads cut records out of large multi-record reads: every record comes back whole and
// in order across read boundaries, a record larger than one read included, and a poll
// from the middle of the log with a small maximum returns exactly that window.
TEST_F(EmbeddedLogTest, LargeReadsReturnEveryRecordWholeAcrossReadBoundaries) {
  auto log = Open();
  std::vector<BusRecord> records;
  for (int i = 0; i < 300; ++i) {  // ~30 KiB each: several 4 MiB reads
    records.push_back({"ws" + std::to_string(i % 7), std::string(30000 + i, static_cast<char>('a' + i % 26))});
  }
  records.insert(records.begin() + 150, BusRecord{"big", std::string(5u << 20, 'z')});  // > one read
  ASSERT_TRUE(PublishSync(*log, records).ok());
  std::vector<ConsumedRecord> all = ReadAll(*log, std::nullopt);
  ASSERT_EQ(all.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_EQ(all[i].offset, static_cast<int64_t>(i));
    ASSERT_EQ(all[i].key, records[i].key) << i;
    ASSERT_EQ(all[i].value, records[i].value) << i;
  }
  auto sub = log->Subscribe([](int) -> Result<std::optional<int64_t>> { return std::optional<int64_t>(149); });
  ASSERT_TRUE(sub.ok());
  auto window = (*sub)->Poll(10ms, 3);
  ASSERT_TRUE(window.ok());
  ASSERT_EQ(window->size(), 3u);
  EXPECT_EQ((*window)[0].offset, 149);
  EXPECT_EQ((*window)[1].key, "big");
  EXPECT_EQ((*window)[1].value.size(), 5u << 20);
  EXPECT_EQ((*window)[2].value, records[151].value);
}

TEST_F(EmbeddedLogTest, ATornTailIsCutOffAndLaterAppendsFollowTheGoodRecords) {
  {
    auto log = Open();
    ASSERT_TRUE(PublishSync(*log, {{"acme", "kept-1"}, {"acme", "kept-2"}}).ok());
  }
  uintmax_t good = fs::file_size(Segment(0));
  {
    std::ofstream f(Segment(0), std::ios::binary | std::ios::app);
    f << std::string("\x30\x00\x00\x00garbage-from-a-crash", 24);  // a header promising more bytes
  }
  auto log = Open();
  EXPECT_EQ(log->RepairedBytes(), 24u);
  EXPECT_EQ(fs::file_size(Segment(0)), good);
  ASSERT_TRUE(PublishSync(*log, {{"acme", "after"}}).ok());
  std::vector<ConsumedRecord> all = ReadAll(*log, std::nullopt);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].value, "after");
  EXPECT_EQ(all[2].offset, 2);
}

// A log of an early development build (zlib's CRC-32, the length's top bit clear) is
// refused at open, never cut off as if it were a torn tail.
TEST_F(EmbeddedLogTest, ALogOfZlibCrcRecordsIsRefusedNotCutOff) {
  auto old_record = [](const std::string& key, const std::string& value) {
    std::string body(4, '\0');
    for (int b = 0; b < 4; ++b) body[b] = static_cast<char>((key.size() >> (8 * b)) & 0xff);
    body += key + value;
    uint32_t crc = static_cast<uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size())));
    std::string out(8, '\0');
    for (int b = 0; b < 4; ++b) {
      out[b] = static_cast<char>((body.size() >> (8 * b)) & 0xff);
      out[4 + b] = static_cast<char>((crc >> (8 * b)) & 0xff);
    }
    return out + body;
  };
  std::string bytes = old_record("acme", "written-1") + old_record("globex", "written-2");
  {
    std::ofstream f(Segment(0), std::ios::binary);
    f << bytes;
  }
  Result<std::unique_ptr<EmbeddedLog>> log = EmbeddedLog::Open({dir_.path().string()});
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(log.status().message(),
            "the embedded log " + dir_.path().string() +
                "/events.00000000000000000000.log has a record at byte 0 in a format this build does not read "
                "(written by an early development build, or damaged): move it aside and start "
                "with an empty log");
  EXPECT_EQ(fs::file_size(Segment(0)), bytes.size()) << "nothing was cut";
}

// A publish with a record over max_record_bytes (key and value) is refused whole, with
// the sizes in the message, and the log goes on taking records.
TEST_F(EmbeddedLogTest, APublishWithARecordOverTheSizeLimitIsRefusedWhole) {
  EmbeddedLogConfig config{dir_.path().string()};
  config.max_record_bytes = 10;
  auto opened = EmbeddedLog::Open(config);
  ASSERT_TRUE(opened.ok());
  auto& log = *opened;
  Status s = PublishSync(*log, {{"a", "fits"}, {"a", "0123456789"}});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "an embedded log record holds at most 10 bytes; this one has 11");
  EXPECT_EQ(log->End(), 0);
  ASSERT_TRUE(PublishSync(*log, {{"a", "012345678"}, {"a", "next"}}).ok());
  std::vector<ConsumedRecord> all = ReadAll(*log, std::nullopt);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].value, "012345678");
  EXPECT_EQ(all[1].value, "next");
}

TEST_F(EmbeddedLogTest, ACorruptRecordEndsTheGoodPrefix) {
  {
    auto log = Open();
    ASSERT_TRUE(PublishSync(*log, {{"a", "first"}, {"a", "second"}}).ok());
  }
  {
    std::fstream f(Segment(0), std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(-2, std::ios::end);
    f.put('X');  // flip a byte of the last record: its CRC no longer matches
  }
  auto log = Open();
  EXPECT_EQ(log->End(), 1);
  EXPECT_GT(log->RepairedBytes(), 0u);
}

TEST_F(EmbeddedLogTest, ConcurrentPublishersAreAllAcknowledgedAndStored) {
  auto log = Open();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        if (PublishSync(*log, {{"w", std::to_string(t) + ":" + std::to_string(i)}}).ok()) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 200);
  EXPECT_EQ(log->End(), 200);
  std::set<std::string> values;
  for (const auto& r : ReadAll(*log, std::nullopt)) values.insert(r.value);
  EXPECT_EQ(values.size(), 200u);
}

TEST_F(EmbeddedLogTest, SubscribersStartAtTheStoredOffsetAndWaitForMore) {
  auto log = Open();
  ASSERT_TRUE(PublishSync(*log, {{"a", "0"}, {"a", "1"}, {"a", "2"}}).ok());
  std::vector<ConsumedRecord> tail = ReadAll(*log, 2);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail[0].offset, 2);
  auto at_one = std::move(*log->Subscribe([](int) -> Result<std::optional<int64_t>> { return std::optional<int64_t>(1); }));
  EXPECT_EQ(at_one->Lag(), (std::map<int, int64_t>{{0, 2}}));
  (void)at_one->Poll(10ms, 10);
  EXPECT_EQ(at_one->Lag(), (std::map<int, int64_t>{{0, 0}}));
  auto sub = std::move(*log->Subscribe([](int) -> Result<std::optional<int64_t>> { return std::optional<int64_t>(3); }));
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE((*sub->Poll(100ms, 10)).empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);
  std::thread later([&] {
    std::this_thread::sleep_for(50ms);
    (void)PublishSync(*log, {{"a", "3"}});  // checked by the poll below
  });
  auto got = sub->Poll(5s, 10);
  later.join();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].value, "3");
  ASSERT_TRUE(sub->Seek(0, 1).ok());
  EXPECT_EQ((*sub->Poll(10ms, 10)).size(), 3u);
}

TEST_F(EmbeddedLogTest, StateAheadOfTheLogIsRefused) {
  auto log = Open();
  ASSERT_TRUE(PublishSync(*log, {{"a", "0"}}).ok());
  auto sub = log->Subscribe([](int) -> Result<std::optional<int64_t>> { return std::optional<int64_t>(5); });
  ASSERT_FALSE(sub.ok());
  EXPECT_EQ(sub.status().code(), Code::kFailedPrecondition);
  EXPECT_NE(sub.status().message().find("holds only 1"), std::string::npos);
}

TEST_F(EmbeddedLogTest, AFullWriteQueueRefusesAtOnce) {
  auto log = EmbeddedLog::Open({dir_.path().string(), "events.log", 3});
  ASSERT_TRUE(log.ok());
  std::vector<BusRecord> four(4, BusRecord{"a", "x"});
  Status s = PublishSync(**log, four);
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_TRUE(PublishSync(**log, {{"a", "fits"}}).ok());
}

// A write the file system refuses part-way (here the file-size limit, which lets part of
// the publish in and then fails) is undone: the publish fails as retryable, the log
// reports not ready, nothing of it is ever read, and once writes succeed again the next
// publish lands right after the last acknowledged record.
TEST_F(EmbeddedLogTest, AWriteRefusedPartWayIsUndoneAndTheLogRecovers) {
  auto log = Open();
  ASSERT_TRUE(PublishSync(*log, {{"acme", "before"}}).ok());
  uintmax_t good = fs::file_size(Segment(0));

  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of a signal
  struct rlimit small = saved;
  small.rlim_cur = good + 100;  // room for part of the next publish, not all of it
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  Status refused =
      PublishSync(*log, {{"acme", std::string(60, 'a')}, {"acme", std::string(60, 'b')}});
  Status ready_while_failing = log->Ready();
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  std::signal(SIGXFSZ, old_handler);

  EXPECT_EQ(refused.code(), Code::kUnavailable);
  EXPECT_TRUE(refused.retryable());
  EXPECT_EQ(ready_while_failing.code(), Code::kUnavailable) << "not ready right after a failed write";
  EXPECT_EQ(log->End(), 1);
  EXPECT_EQ(fs::file_size(Segment(0)), good);

  ASSERT_TRUE(PublishSync(*log, {{"acme", "after"}}).ok());
  EXPECT_TRUE(log->Ready().ok());
  std::vector<ConsumedRecord> all = ReopenAndReadAll(log);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].value, "before");
  EXPECT_EQ(all[1].value, "after");
  EXPECT_EQ(all[1].offset, 1);
}

// Segments roll at segment_bytes; reads go on across them, and a reopen reads them all.
TEST_F(EmbeddedLogTest, SegmentsRollAndAreReadAcrossAndAfterReopen) {
  EmbeddedLogConfig config{dir_.path().string()};
  config.segment_bytes = 100;
  auto log = std::move(*EmbeddedLog::Open(config));
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(PublishSync(*log, {{"a", std::string(40, static_cast<char>('0' + i))}, {"a", "x"}}).ok());
  }
  EXPECT_TRUE(fs::exists(Segment(0)));
  EXPECT_TRUE(fs::exists(Segment(4))) << "two publishes (4 records, 130 bytes) filled the first";
  auto sub = std::move(*log->Subscribe([](int) -> Result<std::optional<int64_t>> { return std::optional<int64_t>(); }));
  std::vector<ConsumedRecord> all = ReadEvery(*sub);
  ASSERT_EQ(all.size(), 20u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].offset, static_cast<int64_t>(i));
  EXPECT_EQ(all[18].value, std::string(40, '9'));
  log.reset();
  log = std::move(*EmbeddedLog::Open(config));
  EXPECT_EQ(log->End(), 20);
  EXPECT_EQ(log->First(), 0);
}

// Retention drops the oldest segments once every record in them is applied and they are
// old enough; never the one being written; a restart reads from the first one kept, and a
// state that needs dropped records starts there and is reported as history lost.
TEST_F(EmbeddedLogTest, RetentionDropsOnlyAppliedOldSegmentsAndSaysWhatIsLost) {
  EmbeddedLogConfig config{dir_.path().string()};
  config.segment_bytes = 100;
  config.retention = 1ms;
  auto log = std::move(*EmbeddedLog::Open(config));
  auto publish_two = [&](char c) {
    ASSERT_TRUE(PublishSync(*log, {{"a", std::string(40, c)}, {"a", std::string(40, c)}}).ok());
    std::this_thread::sleep_for(5ms);  // older than the retention by the next roll
  };
  // Two records (106 bytes) fill a segment: segments at 0, 2, 4 and 6.
  for (char c : {'a', 'b', 'c', 'd'}) publish_two(c);
  auto sub = std::move(*log->Subscribe([](int) -> Result<std::optional<int64_t>> { return std::optional<int64_t>(); }));
  EXPECT_EQ(ReadEvery(*sub).size(), 8u);
  EXPECT_EQ(log->First(), 0) << "nothing applied yet: nothing dropped";
  sub->CommitForLag({{0, 6}});  // the state holds records 0..5
  publish_two('e');
  publish_two('f');  // rolls: segments 0, 2 and 4 are applied and old; 6 (records 6-7) is not applied
  EXPECT_EQ(log->First(), 6);
  EXPECT_FALSE(fs::exists(Segment(0)));
  EXPECT_FALSE(fs::exists(Segment(4)));
  EXPECT_TRUE(fs::exists(Segment(6)));
  sub->CommitForLag({{0, 12}});
  publish_two('g');
  publish_two('h');
  EXPECT_EQ(log->First(), 12);
  const int64_t end = log->End();
  EXPECT_EQ(end, 16);

  log.reset();
  log = std::move(*EmbeddedLog::Open(config));
  EXPECT_EQ(log->First(), 12);
  EXPECT_EQ(log->End(), end);
  auto resumed = std::move(*log->Subscribe([](int) -> Result<std::optional<int64_t>> { return std::optional<int64_t>(12); }));
  EXPECT_TRUE(resumed->HistoryLost().empty());
  std::vector<ConsumedRecord> rest = ReadEvery(*resumed);
  ASSERT_EQ(rest.size(), 4u);
  EXPECT_EQ(rest[0].offset, 12);
  EXPECT_EQ(rest[0].value, std::string(40, 'g'));
  auto rebuilt = std::move(*log->Subscribe([](int) -> Result<std::optional<int64_t>> { return std::optional<int64_t>(); }));
  EXPECT_EQ(rebuilt->HistoryLost(), std::set<int>{0}) << "a rebuild from a log that no longer starts at 0";
  EXPECT_EQ(ReadEvery(*rebuilt).front().offset, 12);
}

// A log nobody consumes (the dead letters) is dropped by age alone.
TEST_F(EmbeddedLogTest, ALogWithoutConsumerIsDroppedByAge) {
  EmbeddedLogConfig config{dir_.path().string(), "dlq.log"};
  config.segment_bytes = 50;
  config.retention = 1ms;
  config.keep_unapplied = false;
  auto log = std::move(*EmbeddedLog::Open(config));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(PublishSync(*log, {{"0", std::string(60, 'x')}}).ok());
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(log->First(), 3) << "each older segment dropped as the next one started";
  EXPECT_EQ(log->DiskBytes(), 73u) << "one record: 12 bytes of header, a 1-byte key, 60 bytes";
}

TEST_F(EmbeddedLogTest, TheSingleFileLayoutAGapOrOldDamageIsRefused) {
  {
    std::ofstream f(dir_.path() / "events.log", std::ios::binary);
    f << "x";
  }
  Result<std::unique_ptr<EmbeddedLog>> single = EmbeddedLog::Open({dir_.path().string()});
  ASSERT_FALSE(single.ok());
  EXPECT_NE(single.status().message().find("is one file, as early development builds wrote it"), std::string::npos)
      << single.status().message();
  fs::remove(dir_.path() / "events.log");

  EmbeddedLogConfig config{dir_.path().string()};
  config.segment_bytes = 10;
  {
    auto log = std::move(*EmbeddedLog::Open(config));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(PublishSync(*log, {{"a", "0123456789"}}).ok());
  }
  ASSERT_TRUE(fs::exists(Segment(1)));
  {
    std::fstream f(Segment(1), std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(-2, std::ios::end);
    f.put('X');
  }
  Result<std::unique_ptr<EmbeddedLog>> damaged = EmbeddedLog::Open(config);
  ASSERT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().message().find("is damaged at byte 0 (a later segment follows it"), std::string::npos)
      << damaged.status().message();
  fs::remove(Segment(1));
  Result<std::unique_ptr<EmbeddedLog>> gap = EmbeddedLog::Open(config);
  ASSERT_FALSE(gap.ok());
  EXPECT_NE(gap.status().message().find("(records 1 to 1 are missing)"), std::string::npos) << gap.status().message();
}

}  // namespace
}  // namespace tokenmeter
