// StateStore on a real RocksDB in a temp dir: the thread that commits or looks up turns
// off RocksDB's per-thread perf counters (counted on every key comparison otherwise;
// nothing reads them), and that leaves what is stored and read unchanged; opening builds
// the dedup index from the dedup family.
#include "state/state_store.h"

#include <gtest/gtest.h>
#include <rocksdb/perf_level.h>

#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "dedup/dedup_index.h"
#include "dedup/dedup_record.h"
#include "temp_dir.h"

namespace tokenmeter {
namespace {

TEST(StateStoreTest, CommitAndMultiGetTurnOffTheCallingThreadsPerfCounters) {
  testing::TempDir dir("tm-state");
  auto store = StateStore::Open(dir.path().string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();

  rocksdb::PerfLevel before = rocksdb::PerfLevel::kUninitialized,
                     after = rocksdb::PerfLevel::kUninitialized;
  std::thread([&] {
    before = rocksdb::GetPerfLevel();
    StateStore::Batch batch = (*store)->NewBatch();
    batch.Put(Family::kDedup, "acme/r1", "v1");
    ASSERT_TRUE((*store)->Commit(batch).ok());
    after = rocksdb::GetPerfLevel();
  }).join();
  EXPECT_EQ(before, rocksdb::PerfLevel::kEnableCount);  // RocksDB's default for a new thread
  EXPECT_EQ(after, rocksdb::PerfLevel::kDisable);

  std::vector<std::optional<std::string>> values;
  std::thread([&] {
    std::vector<std::string_view> keys = {"acme/r0", "acme/r1"};
    ASSERT_TRUE((*store)->MultiGet(Family::kDedup, keys, values, /*sorted=*/true).ok());
    after = rocksdb::GetPerfLevel();
  }).join();
  EXPECT_EQ(after, rocksdb::PerfLevel::kDisable);
  ASSERT_EQ(values.size(), 2u);
  EXPECT_FALSE(values[0].has_value());
  EXPECT_EQ(values[1], std::optional<std::string>("v1"));
}

// Opening reads every dedup row into the index (in chunks of 4096 under one lock each):
// rows in the time layout by their key time, a row under the id alone by its record's
// first-seen time (never reused when the record cannot be read), and says how many.
TEST(StateStoreTest, OpeningBuildsTheDedupIndexFromEveryDedupRow) {
  testing::TempDir dir("tm-state");
  constexpr int kRows = 10'001;  // with the row below: two whole chunks and part of one
  constexpr int64_t kSecond0 = 1'700'000'000'000;
  auto id = [](int i) { return "acme" + std::string(1, '\0') + "r" + std::to_string(i); };
  {
    auto store = StateStore::Open(dir.path().string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->dedup_index_load().rows, 0u);
    StateStore::Batch batch = (*store)->NewBatch();
    std::string key;
    for (int i = 0; i < kRows; ++i) {
      key.clear();
      AppendDedupRowKey(kSecond0 + (i % 7) * 1000, id(i), key);
      batch.Put(Family::kDedup, key, "v");
    }
    batch.Put(Family::kDedup, id(kRows), "not a record");  // the older layout
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
  auto store = StateStore::Open(dir.path().string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->dedup_index_load().rows, static_cast<uint64_t>(kRows + 1));
  const DedupIndex& index = (*store)->dedup_index();
  EXPECT_EQ(index.used(), static_cast<size_t>(kRows + 1));
  std::vector<DedupIndex::Where> where;
  for (int i = 0; i < kRows; ++i) {
    where.clear();
    index.Find(DedupIdHash(id(i)), where);
    ASSERT_EQ(where, (std::vector<DedupIndex::Where>{{false, kSecond0 + (i % 7) * 1000}})) << i;
  }
  where.clear();
  index.Find(DedupIdHash(id(kRows)), where);
  EXPECT_EQ(where, (std::vector<DedupIndex::Where>{
                       {true, DedupIndex::KeyTime(std::numeric_limits<int64_t>::max())}}))
      << "the last second the index holds (2088): not reused";
}

}  // namespace
}  // namespace tokenmeter
