// DedupIndex: where the record of each id in the dedup window is stored, in memory.
// The dedup family keys its rows by time (AppendDedupRowKey), so flushed files barely
// overlap and compactions move them instead of rewriting the window; a lookup by id then
// needs the row's key time, which this index keeps: one 8-byte slot per id (open
// addressing, linear probing) with 32 bits of the id's hash and the key time in seconds.
// An id that was never recorded matches no slot ("certainly new", no read of the store)
// but for about one lookup in 400 at 10 million ids; a match is a candidate the caller
// confirms by reading the row it names (DedupChoice).
//
// The index may name more rows than the family holds (a batch prepared and not
// committed, a row retention dropped), never fewer: a row's slot is added before its
// batch commits, and Load adds every row the family holds. A slot is reused
// once its whole second is before the family's expiry cutoff (its row may be gone, and no
// copy received from then on can match it). Past 85% full the index moves to a table a
// quarter larger, a few slots per addition, so no addition pays for the whole move: ids
// cost 9.4-11.8 bytes each (10 million: 96 MiB), and a new id's probe reads ~23
// consecutive slots at the fullest (three cache lines).
//
// Thread-safe: lookups share a lock, additions take it alone.
#ifndef TOKENMETER_PROCESSOR_DEDUP_DEDUP_INDEX_H_
#define TOKENMETER_PROCESSOR_DEDUP_DEDUP_INDEX_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dedup_record.h"
#include "tokenmeter/base/status.h"

namespace tokenmeter {

class StateStore;

class DedupIndex {
 public:
  // Where one row of an id may be.
  struct Where {
    int64_t ms = 0;  // the row's key time (KeyTime)
    bool operator==(const Where&) const = default;
    // Appends the key of `id`'s row here (AppendDedupRowKey).
    void AppendRowKey(std::string_view id, std::string& out) const { AppendDedupRowKey(ms, id, out); }
  };
  // `cutoff_ms`: the family's expiry cutoff now (rows first seen before it may be
  // dropped), nullopt when nothing may be dropped; unset: slots are never reused.
  // `initial_slots`: the first table's size (Load passes 1.5 × the family's row estimate).
  explicit DedupIndex(std::function<std::optional<int64_t>()> cutoff_ms = {},
                      size_t initial_slots = 0);

  // The index of every row in `store`'s dedup family, reusing slots per the family's
  // expiry (StateStore::ExpiryCutoff); `store` must outlive it. A row key of another
  // layout fails the load (an id left out of the index could be counted twice).
  static Result<std::unique_ptr<DedupIndex>> Load(const StateStore& store);
  // How Load went: the rows read and the time it took (the log at start).
  struct LoadStats {
    uint64_t rows = 0;
    double seconds = 0;
  };
  const LoadStats& load_stats() const { return load_stats_; }

  // The key time of a row for an event keyed at `ms`: the whole second (the index keeps
  // seconds from 2020-01-01 for 68 years; times outside are clamped, keeping key order).
  static int64_t KeyTime(int64_t ms);

  // Appends the candidates for the id whose DedupIdHash is `hash`.
  void Find(uint64_t hash, std::vector<Where>& out) const;
  // The same for a batch's ids under one lock: appends (i, candidate) for hashes[i].
  void FindAll(std::span<const uint64_t> hashes,
               std::vector<std::pair<uint32_t, Where>>& out) const;
  // Records that a row of that id is (about to be) stored at `where`.
  void Add(uint64_t hash, Where where) {
    const std::pair<uint64_t, Where> row{hash, where};
    AddAll({&row, 1});
  }
  // The same for a batch's new rows under one lock (partitions prepared on two threads
  // would otherwise take turns at it per id).
  void AddAll(std::span<const std::pair<uint64_t, Where>> rows);

  size_t used() const;      // slots holding an entry (live or reusable)
  size_t capacity() const;  // slots allocated (both tables while moving)
  size_t bytes() const { return capacity() * sizeof(uint64_t); }

 private:
  struct Table {
    std::vector<uint64_t> slots;  // 0: empty
    size_t used = 0;
  };
  static void Put(Table& t, uint64_t slot, std::optional<int64_t> cutoff);
  template <typename Out>
  static void FindIn(const Table& t, uint32_t h32, size_t skip_below, Out out);
  void Move(size_t slots, std::optional<int64_t> cutoff);
  std::function<std::optional<int64_t>()> cutoff_ms_;
  LoadStats load_stats_;
  mutable std::shared_mutex mu_;
  Table cur_;         // additions go here
  Table old_;         // the table being moved into cur_ (no slots when none)
  size_t moved_ = 0;  // old_'s slots below this are in cur_
};

// What an id's rows come to: the newest readable record (by first-seen time) and the key
// it is stored under, and whether a row of the id could not be read (the caller must not
// then take a copy for a new call: it may already be counted).
struct DedupChoice {
  std::optional<DedupRecord> record;
  std::string key;
  std::optional<size_t> unreadable_bytes;  // the size of a row Decode refused
  void Clear() {
    record.reset();
    key.clear();
    unreadable_bytes.reset();
  }
  // One row of `id` (a candidate the index named and the store holds).
  void Consider(std::string_view row_key, std::string_view value, std::string_view id);
};

// `id`'s rows, read one by one through the index (the query API's lookup).
Result<DedupChoice> FindDedup(const StateStore& store, const DedupIndex& index, std::string_view id);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_DEDUP_DEDUP_INDEX_H_
