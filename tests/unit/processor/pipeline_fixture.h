// The pipeline tests' fixture: a BatchPipeline over a real RocksDB in a temp dir, and
// helpers that apply records and read back rollups and dedup records.
#ifndef TOKENMETER_TESTS_UNIT_PROCESSOR_PIPELINE_FIXTURE_H_
#define TOKENMETER_TESTS_UNIT_PROCESSOR_PIPELINE_FIXTURE_H_

#include "pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <thread>

#include "aggregate/rollup.h"
#include "dedup/dedup_index.h"
#include "dedup/dedup_record.h"
#include "retention.h"
#include "rollup_reader.h"
#include "state/fixed_codec.h"
#include "events/stored_event.h"
#include "temp_dir.h"
#include "test_events.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/model/event_codec.h"

namespace tokenmeter {

namespace fs = std::filesystem;
inline const TimePoint kT = *ParseRfc3339("2026-02-07T12:34:56.000Z");

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    prices_ = std::make_shared<const PriceBook>(*PriceBook::FromEmbedded());
    Reopen();
  }
  void TearDown() override {
    pipeline_.reset();
    journal_.reset();
    dedup_.reset();
    store_.reset();
  }
  void Reopen() {
    pipeline_.reset();
    journal_.reset();
    dedup_.reset();
    store_.reset();
    auto s = StateStore::Open(dir_.path().string(), ProcessorStateOptions());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    auto d = DedupIndex::Load(*store_);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    dedup_ = std::move(*d);
    auto j = RollupJournal::Open(*store_);
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    journal_ = std::move(*j);
    pipeline_ = std::make_unique<BatchPipeline>(*store_, *dedup_, *journal_, parser_, prices_, "tokenmeter.events");
  }

  static UsageEvent Event(const std::string& id, const std::string& model, uint64_t in, uint64_t out,
                          const std::string& endpoint = "checkout.ai_summary") {
    UsageEvent e = testing::TestEvent("acme", id, model, in, out, kT);
    e.endpoint_tag = endpoint;
    return e;
  }
  // A record as the edge sends it (the binary form); the JSON form is spelled out where a
  // test uses it.
  static ConsumedRecord Msg(int64_t offset, const UsageEvent& e) {
    ConsumedRecord m{0, offset, e.workspace, ""};
    EncodeBusRecord(e, m.value);
    return m;
  }
  BatchStats Apply(const std::vector<ConsumedRecord>& msgs) {
    Result<PreparedBatch> p = pipeline_->Prepare(0, msgs);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_TRUE(pipeline_->Commit(*p).ok());
    return p->stats;
  }
  RollupCounters Rollup(Granularity g, Dimension d, const std::string& value) {
    return testing::ReadRollup(*journal_, "acme", DataMode::kReal, g, d, BucketStart(kT, g), "prod", value);
  }
  // The row as stored in the rollups family (folded deltas only).
  RollupCounters Folded(Granularity g, Dimension d, const std::string& value) {
    auto v = store_->Get(Family::kRollups, RollupKey("acme", DataMode::kReal, g, d, BucketStart(kT, g), {"prod", ""}, value));
    EXPECT_TRUE(v.ok());
    return v.ok() && v->has_value() ? RollupCounters::Decode(**v) : RollupCounters{};
  }
  // The id's dedup record and the key it is stored under, found through the store's index.
  DedupChoice Dedup(const std::string& id) {
    Result<DedupChoice> c = FindDedup(*store_, *dedup_, DedupKey("acme", id));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : DedupChoice{};
  }
  uint32_t Attempts(const std::string& id) {
    DedupChoice c = Dedup(id);
    return c.record ? c.record->attempts : 0;
  }

  testing::TempDir dir_{"tm-pipeline"};
  IngestLimits limits_;
  Normalizer normalizer_ = *Normalizer::FromEmbeddedTable();
  EventParser parser_{limits_, normalizer_};
  std::shared_ptr<const PriceBook> prices_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<DedupIndex> dedup_;
  std::unique_ptr<RollupJournal> journal_;
  std::unique_ptr<BatchPipeline> pipeline_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_TESTS_UNIT_PROCESSOR_PIPELINE_FIXTURE_H_
