// StateStore on a real RocksDB in a temp dir: the thread that commits or looks up turns
// off RocksDB's per-thread perf counters (counted on every key comparison otherwise;
// nothing reads them), and that leaves what is stored and read unchanged.
#include "state/state_store.h"

#include <gtest/gtest.h>
#include <rocksdb/perf_level.h>

#include <string>
#include <thread>
#include <vector>

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

}  // namespace
}  // namespace tokenmeter
