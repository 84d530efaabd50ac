#include "dedup/dedup_index.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "dedup/dedup_record.h"
#include "state/state_store.h"
#include "temp_dir.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {
namespace {

using Where = DedupIndex::Where;

const int64_t kT = ParseRfc3339("2026-02-07T12:34:56.000Z")->time_since_epoch().count();

// A hash whose high 32 bits (the slot's part) are `high` and low bits `low`.
uint64_t Hash(uint32_t high, uint32_t low = 7) { return (uint64_t{high} << 32) | low; }

std::vector<Where> Find(const DedupIndex& index, uint64_t hash) {
  std::vector<Where> out;
  index.Find(hash, out);
  return out;
}

TEST(DedupIndexTest, KeyTimesAreWholeSecondsFrom2020ClampedInOrder) {
  EXPECT_EQ(DedupIndex::KeyTime(kT + 999), kT);
  EXPECT_EQ(DedupIndex::KeyTime(kT + 1000), kT + 1000);
  const int64_t k2020 = ParseRfc3339("2020-01-01T00:00:00Z")->time_since_epoch().count();
  EXPECT_EQ(DedupIndex::KeyTime(0), k2020) << "before 2020: clamped";
  EXPECT_EQ(DedupIndex::KeyTime(-1), k2020);
  EXPECT_EQ(DedupIndex::KeyTime(k2020 - 1), k2020);
  const int64_t last = DedupIndex::KeyTime(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(last, (1577836800LL + (1LL << 31) - 2) * 1000) << "68 years on: clamped";
  EXPECT_EQ(DedupIndex::KeyTime(last + 5000), last);
  EXPECT_LE(DedupIndex::KeyTime(kT), DedupIndex::KeyTime(kT + 1));
}

TEST(DedupIndexTest, AnAddedIdIsFoundWhereItWasPutAndAnotherIsCertainlyNew) {
  DedupIndex index;
  index.Add(Hash(42), {kT});
  index.Add(Hash(43), {kT + 5000});
  EXPECT_EQ(Find(index, Hash(42)), (std::vector<Where>{{kT}}));
  EXPECT_EQ(Find(index, Hash(43)), (std::vector<Where>{{kT + 5000}}));
  EXPECT_TRUE(Find(index, Hash(44)).empty());
  // Only the high half is kept: ids alike there are both candidates, which the caller
  // tells apart by reading the rows.
  index.Add(Hash(42, 99), {kT + 2000});
  EXPECT_EQ(Find(index, Hash(42, 1)), (std::vector<Where>{{kT}, {kT + 2000}}));
  EXPECT_EQ(index.used(), 3u);
  EXPECT_EQ(index.capacity(), 1024u);
}

TEST(DedupIndexTest, EveryIdIsFoundWhileTheIndexMovesToLargerTablesAndAfter) {
  DedupIndex index;
  constexpr uint32_t kIds = 22000;
  auto hash_of = [](uint32_t i) { return Hash(i * 2654435761u); };  // spread over the slots
  auto time_of = [](uint32_t i) { return kT + int64_t{i % 50} * 1000; };
  size_t largest = 0;
  for (uint32_t i = 0; i < kIds; ++i) {
    index.Add(hash_of(i), {time_of(i)});
    largest = std::max(largest, index.capacity());
    if (i % 97 == 0) {  // the tables are mid-move at many of these
      for (uint32_t j = 0; j <= i; j += 13) {
        ASSERT_EQ(Find(index, hash_of(j)), (std::vector<Where>{{time_of(j)}}))
            << i << " " << j;
      }
    }
  }
  for (uint32_t i = 0; i < kIds; ++i) {
    ASSERT_EQ(Find(index, hash_of(i)), (std::vector<Where>{{time_of(i)}})) << i;
  }
  EXPECT_TRUE(Find(index, Hash(12345u * 2654435761u + 1)).empty());
  EXPECT_EQ(index.used(), kIds);
  // 1024 grown by a quarter 14 times (each past 85% full): 1280, 1600, ... 23272, 29090.
  EXPECT_EQ(index.capacity(), 29090u) << "the last move done";
  EXPECT_EQ(largest, 29090u + 23272u) << "both tables while moving";
}

TEST(DedupIndexTest, SlotsWhoseSecondIsPastTheExpiryCutoffAreDroppedOrReusedAndTheRestKept) {
  std::optional<int64_t> cutoff;  // unknown: nothing is dropped
  DedupIndex index([&] { return cutoff; });
  auto old_id = [](uint32_t i) { return Hash(i * 2654435761u); };
  for (uint32_t i = 0; i < 700; ++i) index.Add(old_id(i), {kT});
  index.Add(Hash(1), {kT + 1500});  // its second ends at kT + 2000
  for (uint32_t i = 0; i < 169; ++i) index.Add(Hash(i * 40503u + 3), {kT + 60000});
  EXPECT_EQ(index.used(), 870u) << "85% of 1024 slots";
  EXPECT_EQ(index.capacity(), 1024u);
  EXPECT_EQ(Find(index, old_id(5)), (std::vector<Where>{{kT}}))
      << "kept while the cutoff is unknown";

  // The old ones may be dropped now, not Hash(1)'s (its second is not wholly before the
  // cutoff). The next addition starts the move to 1280 slots; 64 more finish it.
  cutoff = kT + 1999;
  for (uint32_t n = 0; n < 65; ++n) index.Add(Hash(7, n), {kT + 60000});
  EXPECT_EQ(index.capacity(), 1280u) << "the move is done";
  EXPECT_EQ(index.used(), 1u + 169u + 65u) << "the 700 expired slots were not moved";
  EXPECT_TRUE(Find(index, old_id(5)).empty());
  EXPECT_EQ(Find(index, Hash(1)), (std::vector<Where>{{kT + 1000}}));
  EXPECT_EQ(Find(index, Hash(3)), (std::vector<Where>{{kT + 60000}}));

  // An expired slot on an addition's probe is reused in place.
  index.Add(Hash(0xc0000000u), {kT + 60000});  // alone at its slot (960 of 1280)
  EXPECT_EQ(index.used(), 236u);
  cutoff = kT + 61000;
  index.Add(Hash(0xc0000000u, 5), {kT + 90000});
  EXPECT_EQ(index.used(), 236u);
  EXPECT_EQ(Find(index, Hash(0xc0000000u)), (std::vector<Where>{{kT + 90000}}));
}

TEST(DedupIndexTest, LoadIndexesEveryDedupRow) {
  testing::TempDir dir("tm-state");
  constexpr int kRows = 10'002;  // two whole chunks and part of one
  constexpr int64_t kSecond0 = 1'700'000'000'000;
  auto id = [](int i) { return "acme" + std::string(1, '\0') + "r" + std::to_string(i); };
  {
    auto store = StateStore::Open(dir.path().string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto empty = DedupIndex::Load(**store);
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ((*empty)->load_stats().rows, 0u);
    StateStore::Batch batch = (*store)->NewBatch();
    std::string key;
    for (int i = 0; i < kRows; ++i) {
      key.clear();
      AppendDedupRowKey(kSecond0 + (i % 7) * 1000, id(i), key);
      batch.Put(Family::kDedup, key, "v");
    }
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
  auto store = StateStore::Open(dir.path().string());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto loaded = DedupIndex::Load(**store);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->load_stats().rows, static_cast<uint64_t>(kRows));
  const DedupIndex& index = **loaded;
  EXPECT_EQ(index.used(), static_cast<size_t>(kRows));
  std::vector<DedupIndex::Where> where;
  for (int i = 0; i < kRows; ++i) {
    where.clear();
    index.Find(DedupIdHash(id(i)), where);
    ASSERT_EQ(where, (std::vector<DedupIndex::Where>{{kSecond0 + (i % 7) * 1000}})) << i;
  }
}

// An id the index left out could be counted twice: a dedup row whose key is not \0, a
// key time and an id fails the load instead.
TEST(DedupIndexTest, ADedupRowKeyOfAnotherLayoutFailsTheLoad) {
  testing::TempDir dir("tm-state");
  {
    auto store = StateStore::Open(dir.path().string());
    ASSERT_TRUE(store.ok());
    StateStore::Batch batch = (*store)->NewBatch();
    batch.Put(Family::kDedup, "acme" + std::string(1, '\0') + "r1", "v");  // the id alone
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
  Result<std::unique_ptr<StateStore>> store = StateStore::Open(dir.path().string());
  ASSERT_TRUE(store.ok());
  Result<std::unique_ptr<DedupIndex>> index = DedupIndex::Load(**store);
  ASSERT_FALSE(index.ok());
  EXPECT_EQ(index.status().message(), "a dedup row key of 7 bytes is not \\0, a key time and an id");
}

}  // namespace
}  // namespace tokenmeter
