// StateStore on a real RocksDB in a temp dir: the thread that commits or looks up turns
// off RocksDB's per-thread perf counters (counted on every key comparison otherwise;
// nothing reads them), and that leaves what is stored and read unchanged.
#include "state/state_store.h"

#include <gtest/gtest.h>
#include <rocksdb/perf_level.h>

#include <limits>
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

// Opening reads every dedup row into the index (in chunks of 4096 under one lock each):
// rows in the time layout by their key time, a row under the id alone by its record's
// first-seen time (never reused when the record cannot be read), and says how many.
// A state directory records its format when created; one written before formats were
// numbered (rows, no format) or in another format is refused at open, with what to do.
TEST(StateStoreTest, AStateInAnotherFormatIsRefusedAtOpenWithWhatToDo) {
  testing::TempDir dir("tm-state");
  {
    auto store = StateStore::Open(dir.path().string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ(*(*store)->Get(Family::kMeta, "state_format"), std::optional<std::string>("2"));
    StateStore::Batch batch = (*store)->NewBatch();
    batch.Put(Family::kEvents, "row", "v");
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
  ASSERT_TRUE(StateStore::Open(dir.path().string()).ok()) << "its own format reopens";

  auto rewrite_format = [&](std::optional<std::string> format) {
    auto store = StateStore::Open(dir.path().string());
    ASSERT_TRUE(store.ok());
    StateStore::Batch batch = (*store)->NewBatch();
    if (format) {
      batch.Put(Family::kMeta, "state_format", *format);
    } else {
      batch.Delete(Family::kMeta, "state_format");
    }
    ASSERT_TRUE((*store)->Commit(batch).ok());
  };
  const std::string remedy =
      "; this build reads state format 2 only: move the directory aside and start again (the "
      "processor rebuilds the state from the bus, which must still hold every event)";
  rewrite_format(std::nullopt);
  Result<std::unique_ptr<StateStore>> unnumbered = StateStore::Open(dir.path().string());
  ASSERT_FALSE(unnumbered.ok());
  EXPECT_EQ(unnumbered.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(unnumbered.status().message(),
            "the state in " + dir.path().string() +
                " was written by a development build before state formats were numbered" + remedy);
}

TEST(StateStoreTest, AStateOfAnotherFormatNumberIsRefused) {
  testing::TempDir dir("tm-state");
  {
    auto store = StateStore::Open(dir.path().string());
    ASSERT_TRUE(store.ok());
    StateStore::Batch batch = (*store)->NewBatch();
    batch.Put(Family::kMeta, "state_format", "1");
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
  Result<std::unique_ptr<StateStore>> other = StateStore::Open(dir.path().string());
  ASSERT_FALSE(other.ok());
  const std::string said = "the state in " + dir.path().string() + " was written in state format 1; this build reads state format 2 only";
  EXPECT_EQ(other.status().message().rfind(said, 0), 0u) << other.status().message();
}

}  // namespace
}  // namespace tokenmeter
