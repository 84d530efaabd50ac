// The processor consuming from a real Kafka-protocol broker (librdkafka mock cluster):
// canonical records produced to tokenmeter.events are counted exactly once, retries raise
// attempts, a poison record lands on the DLQ, a restart re-counts nothing, and a fresh
// state directory rebuilds the same totals from the start of the log.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <map>
#include <random>

#include "aggregate/rollup.h"
#include "mock_cluster.h"
#include "processor_service.h"
#include "retention.h"
#include "rollup_reader.h"
#include "temp_dir.h"
#include "test_events.h"
#include "tokenmeter/base/base64.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/bus/kafka_consumer.h"
#include "tokenmeter/bus/kafka_publisher.h"
#include "tokenmeter/model/event_codec.h"
#include "topic_reader.h"

namespace tokenmeter {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
const TimePoint kT = *ParseRfc3339("2026-02-07T12:00:00.000Z");

class ProcessorKafkaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::move(*MockCluster::Create(3, {{"tokenmeter.events", 4}, {"tokenmeter.events.dlq", 1}}));
    KafkaConfig pc;
    pc.bootstrap_servers = cluster_->bootstrap_servers();
    producer_ = std::move(*KafkaPublisher::Create(pc));
    KafkaConfig dc = pc;
    dc.topic = "tokenmeter.events.dlq";
    dlq_ = std::move(*KafkaPublisher::Create(dc));
    prices_ = std::make_shared<const PriceBook>(*PriceBook::FromEmbedded());
  }

  void Produce(const std::vector<BusRecord>& records) {
    std::promise<Status> done;
    producer_->Publish(records, [&](Status s) { done.set_value(s); });
    ASSERT_TRUE(done.get_future().get().ok());
  }

  static BusRecord Record(const std::string& ws, const std::string& id, uint64_t in, uint64_t out) {
    BusRecord r{ws, ""};
    EncodeCanonical(testing::TestEvent(ws, id, "gpt-4o-mini", in, out, kT), r.value);
    return r;
  }
  // The same in the binary form the edge writes.
  static BusRecord BinaryRecord(const UsageEvent& e) {
    BusRecord r{e.workspace, ""};
    EncodeBusRecord(e, r.value);
    return r;
  }

  // Runs a processor with state in `dir` until `want` records were handled, or (when
  // `until_idle`) until nothing arrived for 2 s after some progress, or 30 s pass.
  BatchStats RunProcessor(const std::string& dir, const std::string& group, size_t want,
                          bool until_idle = false) {
    auto opened = StateStore::Open(base_ / dir, ProcessorStateOptions());
    if (!opened.ok()) {
      ADD_FAILURE() << opened.status().ToString();
      return {};
    }
    auto store = std::move(*opened);
    auto dedup = DedupIndex::Load(*store);
    auto journal_opened = RollupJournal::Open(*store);
    if (!dedup.ok() || !journal_opened.ok()) {
      ADD_FAILURE() << (dedup.ok() ? journal_opened.status() : dedup.status()).ToString();
      return {};
    }
    auto journal = std::move(*journal_opened);
    BatchPipeline pipeline(*store, **dedup, *journal, parser_, prices_, "tokenmeter.events");
    KafkaConsumerConfig cc;
    cc.bootstrap_servers = cluster_->bootstrap_servers();
    cc.group_id = group;
    // A restarted member waits for the previous one's session to expire before the
    // group rebalances (45 s by default), as after a real crash; keep tests short.
    cc.properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "500"}};
    StateStore* s = store.get();
    auto created = KafkaConsumer::Create(cc, [s](int p) { return s->NextOffset("tokenmeter.events", p); });
    if (!created.ok()) {
      ADD_FAILURE() << created.status().ToString();
      return {};
    }
    auto consumer = std::move(*created);
    ProcessorService service(*store, pipeline, *consumer, *dlq_, "tokenmeter.events");
    BatchStats total;
    auto deadline = std::chrono::steady_clock::now() + 30s;
    auto last_progress = std::chrono::steady_clock::now();
    for (int round = 0; std::chrono::steady_clock::now() < deadline; ++round) {
      // Fold every other poll: a run leaves some deltas folded and some in the journal
      // (reloaded by the next run on this state).
      if (round % 2 == 1) {
        EXPECT_TRUE(journal->Fold().ok());
      }
      Result<BatchStats> r = service.RunOnce(200ms);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (r.ok()) {
        total.consumed += r->consumed;
        total.counted += r->counted;
        total.duplicates += r->duplicates;
        total.dead_lettered += r->dead_lettered;
        total.redelivered += r->redelivered;
        if (r->consumed > 0) last_progress = std::chrono::steady_clock::now();
      }
      if (total.consumed >= want) break;
      if (until_idle && total.consumed > 0 && std::chrono::steady_clock::now() - last_progress > 2s) break;
    }
    history_lost_ = consumer->HistoryLost();
    consumer->Close();
    totals_.clear();
    for (const std::string& ws : watched_) {
      totals_[ws] = testing::ReadRollup(*journal, ws, DataMode::kReal, Granularity::kDay, Dimension::kTotal,
                                        BucketStart(kT, Granularity::kDay), "prod", "");
    }
    acme_total_ = totals_["acme"];
    return total;
  }

  IngestLimits limits_;
  Normalizer normalizer_ = *Normalizer::FromEmbeddedTable();
  EventParser parser_{limits_, normalizer_};
  std::shared_ptr<const PriceBook> prices_;
  std::unique_ptr<MockCluster> cluster_;
  std::unique_ptr<KafkaPublisher> producer_, dlq_;
  testing::TempDir base_{"tm-proc"};
  RollupCounters acme_total_;
  std::vector<std::string> watched_{"acme"};  // workspaces whose day totals RunProcessor reads
  std::map<std::string, RollupCounters> totals_;
  std::set<int> history_lost_;
};

TEST_F(ProcessorKafkaTest, CountsOnceDeadLettersPoisonSurvivesRestartAndRebuilds) {
  std::vector<BusRecord> records;
  for (int i = 0; i < 20; ++i) records.push_back(Record("acme", "a" + std::to_string(i), 850, 320));
  // The retries arrive in the binary form: one event is the same content in either form.
  for (int i = 0; i < 5; ++i) {
    records.push_back(BinaryRecord(
        testing::TestEvent("acme", "a" + std::to_string(i), "gpt-4o-mini", 850, 320, kT)));
  }
  for (int i = 0; i < 7; ++i) records.push_back(Record("globex", "g" + std::to_string(i), 10, 10));
  records.push_back(Record("acme", "a0", 999, 1));  // a reused id with other content
  records.push_back({"acme", "{this is not an event"});
  UsageEvent bad_mode = testing::TestEvent("acme", "bad-mode", "gpt-4o-mini", 1, 1, kT);
  bad_mode.data_mode = static_cast<DataMode>(7);
  BusRecord bad_binary = BinaryRecord(bad_mode);
  records.push_back(bad_binary);
  Produce(records);

  BatchStats first = RunProcessor("state-a", "group-a", records.size());
  EXPECT_EQ(first.consumed, records.size());
  EXPECT_EQ(first.counted, 27u);
  EXPECT_EQ(first.duplicates, 5u);  // retries; the reused id is a conflict, no retry
  EXPECT_EQ(first.dead_lettered, 3u);
  EXPECT_EQ(acme_total_.v[kRequests], 20);
  EXPECT_EQ(acme_total_.v[kDuplicates], 5);
  EXPECT_EQ(acme_total_.v[kCostNano], 20 * 319'500);
  EXPECT_TRUE(history_lost_.empty());

  std::vector<testing::TopicRecord> dlq = testing::ReadTopic(cluster_->bootstrap_servers(), "tokenmeter.events.dlq");
  ASSERT_EQ(dlq.size(), 3u);
  auto find = [&dlq](const std::string& reason) -> std::string {
    for (const auto& r : dlq) {
      if (r.value.find("\"reason\":" + reason) != std::string::npos) return r.value;
    }
    return "";
  };
  // Each rejected record travels exactly: text as a JSON string, a binary record in base64.
  EXPECT_NE(find(R"("malformed JSON at byte 1")").find(R"("record":"{this is not an event"})"),
            std::string::npos);
  std::string bad_mode_letter = find(R"("data_mode must be one of real, test, demo")");
  std::string want_base64;
  AppendBase64(want_base64, bad_binary.value);
  EXPECT_NE(bad_mode_letter.find(R"("record_base64":")" + want_base64 + "\"}"), std::string::npos)
      << bad_mode_letter;
  // The conflicting copy is quarantined whole, with its offset, for inspection.
  std::string conflict = find(R"j("request_id \"a0\" was first recorded with other content; this copy is not applied")j");
  ASSERT_NE(conflict, "") << dlq[0].value << "\n" << dlq[1].value;
  EXPECT_NE(conflict.find(R"(\"input_tokens\":999)"), std::string::npos) << conflict;

  // Restart on the same state (a new consumer in the same group): nothing is re-counted,
  // and one more record is counted once.
  Produce({Record("acme", "late-1", 850, 320)});
  BatchStats again = RunProcessor("state-a", "group-a", 1);
  EXPECT_EQ(again.counted, 1u);
  EXPECT_EQ(acme_total_.v[kRequests], 21);
  EXPECT_EQ(acme_total_.v[kCostNano], 21 * 319'500);

  // A fresh state directory rebuilds every partition from the start of the log.
  BatchStats rebuilt = RunProcessor("state-b", "group-b", records.size() + 1);
  EXPECT_EQ(rebuilt.counted, 28u);
  EXPECT_EQ(acme_total_.v[kRequests], 21);
  EXPECT_EQ(acme_total_.v[kDuplicates], 5);
  EXPECT_EQ(acme_total_.v[kCostNano], 21 * 319'500);
}

// A poll of thousands of records over four partitions is applied on several threads
// (on a multi-core machine): every workspace's totals are still exact, each retry is a
// duplicate once, and each partition's poison record is dead-lettered once.
TEST_F(ProcessorKafkaTest, ALargePollOverEveryPartitionCountsEachEventOnce) {
  constexpr int kWorkspaces = 8, kPerWorkspace = 500, kRetriesPerWorkspace = 50;
  std::vector<BusRecord> records;
  watched_.clear();
  for (int w = 0; w < kWorkspaces; ++w) {
    std::string ws = "ws" + std::to_string(w);
    watched_.push_back(ws);
    for (int i = 0; i < kPerWorkspace; ++i) {
      records.push_back(Record(ws, ws + "-" + std::to_string(i), 850, 320));
      // Every 10th id is retried a few records later, with the same content.
      if (i % 10 == 9) records.push_back(Record(ws, ws + "-" + std::to_string(i - 4), 850, 320));
    }
    records.push_back({ws, "{\"not\": \"an event\"}"});
  }
  Produce(records);

  BatchStats got = RunProcessor("state-large", "group-large", records.size());
  EXPECT_EQ(got.consumed, records.size());
  EXPECT_EQ(got.counted, static_cast<size_t>(kWorkspaces * kPerWorkspace));
  EXPECT_EQ(got.duplicates, static_cast<size_t>(kWorkspaces * kRetriesPerWorkspace));
  EXPECT_EQ(got.dead_lettered, static_cast<size_t>(kWorkspaces));
  for (const std::string& ws : watched_) {
    EXPECT_EQ(totals_[ws].v[kRequests], kPerWorkspace) << ws;
    EXPECT_EQ(totals_[ws].v[kDuplicates], kRetriesPerWorkspace) << ws;
    EXPECT_EQ(totals_[ws].v[kCostNano], kPerWorkspace * 319'500) << ws;
  }
  EXPECT_EQ(testing::ReadTopic(cluster_->bootstrap_servers(), "tokenmeter.events.dlq").size(),
            static_cast<size_t>(kWorkspaces));
}

TEST_F(ProcessorKafkaTest, APartitionWhoseHistoryIsGoneIsReportedNotSilentlyPartial) {
  // The mock keeps ~5 MiB (compressed) per partition: 16,000 records of ~1 KB push the log start
  // of acme's partition past 0, as topic retention would.
  // Random padding, so lz4 cannot shrink it below the mock's limit.
  std::mt19937 rng(42);
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (int chunk = 0; chunk < 16; ++chunk) {
    std::vector<BusRecord> records;
    for (int i = 0; i < 1000; ++i) {
      auto pad = [&] {
        std::string p(240, ' ');
        for (char& c : p) c = alphabet[rng() % alphabet.size()];
        return p;
      };
      BusRecord r = Record("acme", "h" + std::to_string(chunk * 1000 + i), 1, 1);
      r.value.insert(r.value.find("\"environment\""), "\"prompt_version\":\"" + pad() + "\",");
      r.value.insert(r.value.find("\"input_tokens\""), "\"user_id\":\"" + pad() + "\",\"tenant_id\":\"" +
                                                          pad() + "\",");
      records.push_back(std::move(r));
    }
    Produce(records);
  }
  Produce({Record("globex", "g-1", 1, 1)});
  BatchStats h = RunProcessor("state-h", "group-h", 16001, /*until_idle=*/true);
  ASSERT_EQ(history_lost_.size(), 1u) << "acme's partition must be reported";
  EXPECT_EQ(h.dead_lettered, 0u);
  EXPECT_EQ(h.counted, h.consumed);
  // Every record the log still holds is counted once, and no more: the partial total is
  // flagged above instead of passing for the whole.
  EXPECT_EQ(acme_total_.v[kRequests], static_cast<int64_t>(h.counted) - 1);
  EXPECT_GT(acme_total_.v[kRequests], 0);
  EXPECT_LT(acme_total_.v[kRequests], 16000);
}

}  // namespace
}  // namespace tokenmeter
