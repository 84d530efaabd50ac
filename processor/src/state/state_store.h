// StateStore: the processor's RocksDB database and its column families (DESIGN.md
// "Processor state"): dedup, events, rollups (merge operator), meta (consumed offsets),
// state (budgets, plan usage), alerts (decided alerts and delivery outcomes), outbox
// (deliveries not yet delivered).
// Every batch (its state changes and its next offset) is committed as one atomic
// WriteBatch, so state and offsets can never disagree after a crash; a caller committing
// several unsynced batches syncs the WAL once before it reports any offset.
//
// Thread-safe (RocksDB is); one writer per partition by convention.
#ifndef TOKENMETER_PROCESSOR_STATE_STATE_STORE_H_
#define TOKENMETER_PROCESSOR_STATE_STATE_STORE_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmeter/base/clock.h"
#include "tokenmeter/base/status.h"

namespace rocksdb {
class DB;
class MergeOperator;
class ColumnFamilyHandle;
class Snapshot;
class WriteBatch;
}  // namespace rocksdb

namespace tokenmeter {

enum class Family : size_t { kDedup, kEvents, kRollups, kMeta, kState, kAlerts, kOutbox, kCount };

// Rows of a family expire `window` after a time each row carries: compactions drop them
// (DESIGN.md "Processor state": the dedup window, the events' retention). Readers that
// must not see an expired row before a compaction has dropped it check the time
// themselves.
struct Expiry {
  std::chrono::milliseconds window{0};
  // The row's time in ms since the epoch; nullopt keeps the row (one it cannot read).
  // Called on RocksDB's compaction threads.
  std::function<std::optional<int64_t>(std::string_view key, std::string_view value)> time_of;
  // "Now" for this family, in ms since the epoch, read when a compaction starts; nullopt
  // drops nothing in that compaction. Unset: StateOptions::clock.
  std::function<std::optional<int64_t>()> now_ms;
};

// The cutoff of a family's expiry now: rows whose time is before it may be dropped;
// nullopt when nothing may be (its "now" is unknown).
std::optional<int64_t> ExpiryCutoff(const Expiry& expiry, const Clock& clock);

struct StateOptions {
  std::map<Family, Expiry> expiry;  // families not listed keep every row
  // How a family's Merge() operands combine (families not listed take no merges).
  std::map<Family, std::shared_ptr<rocksdb::MergeOperator>> merge_operators;
  const Clock* clock = nullptr;     // "now" for expiry (null: the system clock); outlives the store
};

class StateStore {
 public:
  // Opens (creating if needed) the database in `dir`.
  static Result<std::unique_ptr<StateStore>> Open(const std::string& dir, StateOptions options = {});
  ~StateStore();

  // A point in time several reads can share (a RocksDB snapshot): reads `at` it see the
  // commits made before it was taken and none after. Released when destroyed; must not
  // outlive the store.
  class Snapshot {
   public:
    ~Snapshot();
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

   private:
    friend class StateStore;
    Snapshot(const StateStore& store, const rocksdb::Snapshot* snap) : store_(store), snap_(snap) {}
    const StateStore& store_;
    const rocksdb::Snapshot* snap_;
  };
  std::unique_ptr<Snapshot> TakeSnapshot() const;

  // Point lookups in one family; values[i] is nullopt where keys[i] is absent. `sorted`:
  // the keys are in ascending byte order (RocksDB then skips its own sort).
  Status MultiGet(Family f, std::span<const std::string_view> keys,
                  std::vector<std::optional<std::string>>& values, bool sorted = false) const;
  // `at`: read as of that snapshot (null: the latest commits).
  Result<std::optional<std::string>> Get(Family f, const std::string& key, const Snapshot* at = nullptr) const;
  // Calls fn(key, value) for keys in [begin, end) of a family, in order; stops when fn
  // returns false. `bulk`: a read of most of a family once (an export), whose blocks are
  // not kept in the block cache (they would push out the ones queries read again).
  template <typename Fn>
  Status Scan(Family f, const std::string& begin, const std::string& end, Fn fn, const Snapshot* at = nullptr,
              bool bulk = false) const;
  // The same with fn(key, value, seek): when fn sets `seek` (a key after the current one),
  // the scan goes on from there instead of the next key (a skip-scan, on one iterator).
  template <typename Fn>
  Status ScanSeeking(Family f, const std::string& begin, const std::string& end, Fn fn,
                     const Snapshot* at = nullptr) const;

  // The offset to consume next for a bus partition, if this store has ever committed one.
  Result<std::optional<int64_t>> NextOffset(const std::string& topic, int partition) const;

  // Writes every change of a batch atomically and durably (sync).
  class Batch {
   public:
    void Put(Family f, std::string_view key, std::string_view value);
    void Merge(Family f, const std::string& key, const std::string& value);
    void Delete(Family f, const std::string& key);
    void SetNextOffset(const std::string& topic, int partition, int64_t next_offset);
    size_t Count() const;

   private:
    friend class StateStore;
    explicit Batch(StateStore& store);
    StateStore& store_;
    std::unique_ptr<rocksdb::WriteBatch> wb_;

   public:
    ~Batch();  // hands its buffer back to the store for the next batch
    Batch(Batch&&) noexcept;
  };
  // Batches reuse the buffers of finished ones: a batch of a few megabytes grown from
  // empty each time costs a copy per doubling and a page fault per new page.
  Batch NewBatch();
  // Applies the batch atomically. With `sync` it is durable on return; without, it is
  // durable after the next synced commit or SyncWal() (the WAL is one ordered log, so a
  // crash keeps a prefix of the commits, each whole).
  // A commit that fails (a full disk: kNoSpace) leaves RocksDB's WAL writer in an error
  // state in which one more write or sync aborts the process (Debian's build asserts), so
  // from then on Commit and SyncWal refuse at once with that failure until Recover()
  // succeeds. A sync never runs beside a commit (commits share wal_mu_, a sync holds it
  // alone), so it sees a failure the moment its commit returns.
  Status Commit(Batch& batch, bool sync = true);
  // Makes every commit so far durable.
  Status SyncWal();
  // After a failed commit: resumes RocksDB (a flush to a new WAL: it fails again while the
  // disk is still full); OK once commits may be tried again. OK at once when nothing
  // failed. Any thread.
  Status Recover();
  // The failure commits are refused with until Recover() succeeds; OK when none.
  Status WriteFailure() const;

  // RocksDB's background error count and estimated live data size (for metrics).
  uint64_t BackgroundErrors() const;
  uint64_t LiveDataBytes() const;
  // Rows of a family its Expiry dropped in compactions since the store was opened.
  uint64_t Expired(Family f) const { return expired_[static_cast<size_t>(f)].load(std::memory_order_relaxed); }
  // Compacts a family's whole key range now (tests; an operator's manual reclaim).
  Status CompactAll(Family f);

  // The cutoff of family f's expiry now (StateOptions::expiry): rows whose time is before
  // it may be dropped; nullopt when the family does not expire or nothing may be dropped.
  std::optional<int64_t> ExpiryCutoff(Family f) const;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* handle(Family f) const { return handles_[static_cast<size_t>(f)]; }

 private:
  StateStore() = default;
  void Recycle(std::unique_ptr<rocksdb::WriteBatch> wb);
  std::unique_ptr<rocksdb::DB> db_;
  std::mutex spare_mu_;
  std::vector<std::unique_ptr<rocksdb::WriteBatch>> spare_;  // cleared, capacity kept
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::array<std::atomic<uint64_t>, static_cast<size_t>(Family::kCount)> expired_{};
  SystemClock system_clock_;  // expiry's "now" when StateOptions gives no clock
  const Clock* clock_ = &system_clock_;
  std::map<Family, Expiry> expiry_;
  // Commits hold it shared (they run side by side), SyncWal alone: RocksDB 7.8 asserts when
  // SyncWAL enters a WAL writer whose append a concurrent commit has just failed.
  std::shared_mutex wal_mu_;
  std::atomic<bool> write_failed_{false};  // Commit's fast check; the status under failure_mu_
  mutable std::mutex failure_mu_;
  Status write_failure_;
};

// The key under which a partition's next offset is stored in the meta family.
std::string OffsetKey(const std::string& topic, int partition);

}  // namespace tokenmeter

#include "state_store_scan.h"

#endif  // TOKENMETER_PROCESSOR_STATE_STATE_STORE_H_
