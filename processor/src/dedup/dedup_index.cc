#include "dedup_index.h"

#include <rocksdb/db.h>

#include <algorithm>
#include <chrono>
#include <mutex>

#include "state/state_store.h"

namespace tokenmeter {
namespace {

// A slot: the hash's high 32 bits, then (in 31 bits) seconds since kBaseSeconds plus one
// (so no entry is 0, the empty slot).
constexpr int64_t kBaseSeconds = 1577836800;  // 2020-01-01T00:00:00Z
constexpr uint64_t kSecondsMask = (uint64_t{1} << 31) - 1;
constexpr int64_t kMaxSeconds = static_cast<int64_t>(kSecondsMask) - 1;
constexpr size_t kMinSlots = 1024;
// A table is 5/4 of the last, so 16 slots moved per addition end a move after 1/16 of the
// old table's size in additions, well before the new one is 85% full.
constexpr size_t kMovePerAdd = 16;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t SecondsOf(int64_t ms) {
  return std::clamp<int64_t>(FloorDiv(ms, 1000) - kBaseSeconds, 0, kMaxSeconds);
}

uint32_t High32(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

uint64_t SlotOf(uint64_t hash, DedupIndex::Where w) {
  return (uint64_t{High32(hash)} << 32) | static_cast<uint64_t>(SecondsOf(w.ms) + 1);
}

DedupIndex::Where WhereOf(uint64_t slot) {
  return {(static_cast<int64_t>(slot & kSecondsMask) - 1 + kBaseSeconds) * 1000};
}

// Whether a slot may be reused: its whole second is before the cutoff (every row it can
// name was first seen before it; see the header).
bool Reusable(uint64_t slot, std::optional<int64_t> cutoff) {
  return cutoff && WhereOf(slot).ms + 1000 <= *cutoff;
}

// The slot an id's probe starts at (any table size).
size_t Home(uint32_t h32, size_t size) { return static_cast<size_t>((uint64_t{h32} * size) >> 32); }

}  // namespace

DedupIndex::DedupIndex(std::function<std::optional<int64_t>()> cutoff_ms, size_t initial_slots)
    : cutoff_ms_(std::move(cutoff_ms)) {
  cur_.slots.assign(std::max(initial_slots, kMinSlots), 0);
}

Result<std::unique_ptr<DedupIndex>> DedupIndex::Load(const StateStore& store) {
  const auto start = std::chrono::steady_clock::now();
  rocksdb::ColumnFamilyHandle* family = store.handle(Family::kDedup);
  uint64_t estimate = 0;
  (void)store.db()->GetIntProperty(family, "rocksdb.estimate-num-keys", &estimate);
  auto index = std::make_unique<DedupIndex>([&store] { return store.ExpiryCutoff(Family::kDedup); },
                                            static_cast<size_t>(estimate) * 3 / 2);
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // a one-pass read of the whole family
  ro.readahead_size = 2u << 20;
  std::unique_ptr<rocksdb::Iterator> it(store.db()->NewIterator(ro, family));
  std::vector<std::pair<uint64_t, Where>> rows;  // added a chunk per lock
  constexpr size_t kChunk = 4096;
  rows.reserve(kChunk);
  uint64_t read = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    const std::optional<DedupRowKey> row = ParseDedupRowKey(key);
    if (!row) {
      return Internal("a dedup row key of " + std::to_string(key.size()) +
                      " bytes is not \\0, a key time and an id");
    }
    rows.push_back({DedupIdHash(row->id), {row->key_ms}});
    if (rows.size() == kChunk) {
      index->AddAll(rows);
      read += rows.size();
      rows.clear();
    }
  }
  index->AddAll(rows);
  read += rows.size();
  if (!it->status().ok()) return Unavailable("read the dedup family: " + it->status().ToString());
  index->load_stats_ = {read, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
  return index;
}

int64_t DedupIndex::KeyTime(int64_t ms) { return (SecondsOf(ms) + kBaseSeconds) * 1000; }

template <typename Out>
void DedupIndex::FindIn(const Table& t, uint32_t h32, size_t skip_below, Out out) {
  const size_t n = t.slots.size();
  if (n == 0) return;
  for (size_t i = Home(h32, n);; i = i + 1 == n ? 0 : i + 1) {
    const uint64_t s = t.slots[i];
    if (s == 0) return;
    if (High32(s) == h32 && i >= skip_below) out(WhereOf(s));
  }
}

void DedupIndex::Find(uint64_t hash, std::vector<Where>& out) const {
  auto add = [&out](Where w) { out.push_back(w); };
  std::shared_lock lock(mu_);
  FindIn(cur_, High32(hash), 0, add);
  FindIn(old_, High32(hash), moved_, add);  // what is not moved yet
}

void DedupIndex::FindAll(std::span<const uint64_t> hashes,
                         std::vector<std::pair<uint32_t, Where>>& out) const {
  std::shared_lock lock(mu_);
  for (size_t i = 0; i < hashes.size(); ++i) {
    auto add = [&out, i](Where w) { out.emplace_back(static_cast<uint32_t>(i), w); };
    FindIn(cur_, High32(hashes[i]), 0, add);
    FindIn(old_, High32(hashes[i]), moved_, add);
  }
}

void DedupIndex::Put(Table& t, uint64_t slot, std::optional<int64_t> cutoff) {
  const size_t n = t.slots.size();
  for (size_t i = Home(High32(slot), n);; i = i + 1 == n ? 0 : i + 1) {
    uint64_t& s = t.slots[i];
    if (s == 0) {
      s = slot;
      ++t.used;
      return;
    }
    if (Reusable(s, cutoff)) {
      s = slot;
      return;
    }
  }
}

void DedupIndex::Move(size_t slots, std::optional<int64_t> cutoff) {
  const size_t end = std::min(old_.slots.size(), moved_ + slots);
  for (; moved_ < end; ++moved_) {
    const uint64_t s = old_.slots[moved_];
    if (s != 0 && !Reusable(s, cutoff)) Put(cur_, s, cutoff);
  }
  if (moved_ == old_.slots.size() && !old_.slots.empty()) {
    std::vector<uint64_t>().swap(old_.slots);  // its memory goes back now
    old_.used = 0;
  }
}

void DedupIndex::AddAll(std::span<const std::pair<uint64_t, Where>> rows) {
  const std::optional<int64_t> cutoff = cutoff_ms_ ? cutoff_ms_() : std::nullopt;
  std::unique_lock lock(mu_);
  for (const auto& [hash, where] : rows) {
    Move(kMovePerAdd, cutoff);
    if ((cur_.used + 1) * 20 > cur_.slots.size() * 17) {
      Move(old_.slots.size(), cutoff);  // a move still under way ends first
      old_ = std::move(cur_);
      moved_ = 0;
      cur_ = Table{};
      cur_.slots.assign(old_.slots.size() + old_.slots.size() / 4, 0);
    }
    Put(cur_, SlotOf(hash, where), cutoff);
  }
}

size_t DedupIndex::used() const {
  std::shared_lock lock(mu_);
  return cur_.used + old_.used;
}

size_t DedupIndex::capacity() const {
  std::shared_lock lock(mu_);
  return cur_.slots.size() + old_.slots.size();
}

void DedupChoice::Consider(std::string_view row_key, std::string_view value, std::string_view id) {
  std::optional<DedupRecord> r = DedupRecord::Decode(value, id);
  if (!r) {
    unreadable_bytes = value.size();
    return;
  }
  if (record && record->first_seen_ms >= r->first_seen_ms) return;
  record = std::move(r);
  key.assign(row_key);
}

Result<DedupChoice> FindDedup(const StateStore& store, const DedupIndex& index, std::string_view id) {
  DedupChoice choice;
  std::vector<DedupIndex::Where> where;
  index.Find(DedupIdHash(id), where);
  std::string key;
  for (const DedupIndex::Where& w : where) {
    key.clear();
    w.AppendRowKey(id, key);
    Result<std::optional<std::string>> v = store.Get(Family::kDedup, key);
    if (!v.ok()) return v.status();
    if (v->has_value()) choice.Consider(key, **v, id);
  }
  return choice;
}

}  // namespace tokenmeter
