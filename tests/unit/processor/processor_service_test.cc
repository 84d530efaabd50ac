// ProcessorService over the embedded log (serve's bus) with read-ahead: the next poll is
// read and decoded while a large batch is applied; a failed batch drops what was read
// ahead and comes back to its stored offset, so every event is counted exactly once.
#include "processor_service.h"

#include <gtest/gtest.h>

#include <future>

#include "fake_publisher.h"
#include "temp_dir.h"
#include "test_events.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/bus/embedded_log.h"
#include "tokenmeter/model/event_codec.h"

namespace tokenmeter {
namespace {

TEST(ProcessorServiceTest, ReadAheadAfterAFailedBatchIsDroppedAndEveryEventCountsOnce) {
  testing::TempDir dir("tm-service");
  auto log = EmbeddedLog::Open({dir.path().string() + "/log", "events.log", 100000});
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  // 2,500 records, the 101st not JSON (so the first batch has a dead letter to publish).
  const TimePoint at = *ParseRfc3339("2026-02-07T12:34:56.000Z");
  std::vector<BusRecord> records;
  for (int i = 0; i < 2500; ++i) {
    std::string value = "{bad";
    if (i != 100) {
      value.clear();
      EncodeCanonical(
          testing::TestEvent("acme", "r" + std::to_string(i), "gpt-4o-mini", 850, 320, at), value);
    }
    records.push_back({"acme", std::move(value)});
  }
  std::promise<Status> written;
  (*log)->Publish(std::move(records), [&written](Status s) { written.set_value(std::move(s)); });
  ASSERT_TRUE(written.get_future().get().ok());

  auto store = StateStore::Open(dir.path().string() + "/state");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto journal = RollupJournal::Open(**store);
  ASSERT_TRUE(journal.ok());
  IngestLimits limits;
  Normalizer normalizer = *Normalizer::FromEmbeddedTable();
  EventParser parser(limits, normalizer);
  BatchPipeline pipeline(**store, **journal, parser,
                         std::make_shared<const PriceBook>(*PriceBook::FromEmbedded()),
                         "tokenmeter.events");
  auto sub =
      (*log)->Subscribe([&store](int p) { return (*store)->NextOffset("tokenmeter.events", p); });
  ASSERT_TRUE(sub.ok());
  testing::FakePublisher dlq;
  ProcessorService service(**store, pipeline, **sub, dlq, "tokenmeter.events", /*max_batch=*/1200,
                           /*read_ahead=*/true);

  // The first batch (records 0-1199) fails: its dead letter cannot be published. Records
  // 1200-2399 were read ahead meanwhile; they are dropped and the reader is back at 0.
  dlq.FailWith(Unavailable("dead-letter topic down"));
  Result<BatchStats> failed = service.RunOnce(std::chrono::milliseconds(100));
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ((*sub)->Lag()[0], 2500);
  EXPECT_FALSE((*store)->NextOffset("tokenmeter.events", 0)->has_value());

  dlq.FailWith(Status::Ok());
  Result<BatchStats> first = service.RunOnce(std::chrono::milliseconds(100));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->counted, 1199u);
  EXPECT_EQ(first->dead_lettered, 1u);
  EXPECT_EQ((*sub)->Lag()[0], 100);   // 1200-2399 read ahead
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
  EXPECT_EQ(**(*store)->NextOffset("tokenmeter.events", 0), 2500);
}

}  // namespace
}  // namespace tokenmeter
