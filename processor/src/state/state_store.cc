#include "state_store.h"

#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>

#include "fixed_codec.h"
#include "rocksdb_hooks.h"
#include "tokenmeter/base/log.h"

namespace tokenmeter {
namespace {

constexpr size_t kMemtableBudgetBytes = 64u << 20;
constexpr const char* kFamilyNames[] = {"dedup", "events", "rollups", "meta", "state", "alerts", "outbox"};
static_assert(std::size(kFamilyNames) == static_cast<size_t>(Family::kCount));

// RocksDB counts every key comparison, block read and the like in a thread-local perf
// context unless the calling thread turns it off (its default level is kEnableCount).
// Nothing here reads those counters, and Debian's build reaches the context through a
// TLS wrapper call per count: ~22 comparisons per memtable insert, each paying it. The
// level is per thread, so every entry point that does bulk work sets it (a plain store).
void QuietPerfCounters() { rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable); }

Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return Status::Ok();
  if (s.IsNoSpace()) return NoSpace(what + ": " + s.ToString());
  if (s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    return Unavailable(what + ": " + s.ToString());
  }
  return Internal(what + ": " + s.ToString());
}

// Drops a family's rows older than its window. One filter per compaction, with the
// cutoff fixed when the compaction starts.
class ExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  ExpiryFilter(const Expiry& expiry, int64_t cutoff_ms, std::atomic<uint64_t>& dropped)
      : expiry_(expiry), cutoff_ms_(cutoff_ms), dropped_(dropped) {}
  bool Filter(int /*level*/, const rocksdb::Slice& key, const rocksdb::Slice& value, std::string* /*new_value*/,
              bool* /*value_changed*/) const override {
    std::optional<int64_t> t = expiry_.time_of(std::string_view(key.data(), key.size()),
                                               std::string_view(value.data(), value.size()));
    if (!t || *t >= cutoff_ms_) return false;
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  // A merge family's operands expire with their row: a row is dropped whole, never its
  // base value while an operand would survive it.
  bool FilterMergeOperand(int level, const rocksdb::Slice& key, const rocksdb::Slice& operand) const override {
    return Filter(level, key, operand, nullptr, nullptr);
  }
  const char* Name() const override { return "tokenmeter.expiry"; }

 private:
  const Expiry& expiry_;
  int64_t cutoff_ms_;
  std::atomic<uint64_t>& dropped_;
};

class ExpiryFilterFactory final : public rocksdb::CompactionFilterFactory {
 public:
  ExpiryFilterFactory(Expiry expiry, const Clock& clock, std::atomic<uint64_t>& dropped)
      : expiry_(std::move(expiry)), clock_(clock), dropped_(dropped) {}
  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context& /*context*/) override {
    std::optional<int64_t> cutoff = ExpiryCutoff(expiry_, clock_);
    return std::make_unique<ExpiryFilter>(
        expiry_, cutoff.value_or(std::numeric_limits<int64_t>::min()), dropped_);
  }
  const char* Name() const override { return "tokenmeter.expiry"; }

 private:
  Expiry expiry_;
  const Clock& clock_;
  std::atomic<uint64_t>& dropped_;
};

// The format of a state directory: the row layouts of every family as this build writes
// them, stored in the meta family when the directory is created. There is one format; a
// directory written before formats were numbered, or in another one, is refused at open
// (the processor rebuilds a moved-aside state from the bus).
constexpr std::string_view kFormatKey = "state_format";
constexpr std::string_view kFormat = "2";  // 2: rollup rows keyed by environment and project

Status CheckFormat(rocksdb::DB& db, const std::vector<rocksdb::ColumnFamilyHandle*>& families,
                   rocksdb::ColumnFamilyHandle* meta, const std::string& dir) {
  const std::string refuse = "the state in " + dir + " was written ";
  const std::string remedy =
      "; this build reads state format " + std::string(kFormat) +
      " only: move the directory aside and start again (the processor rebuilds the state from "
      "the bus, which must still hold every event)";
  std::string stored;
  rocksdb::Status s = db.Get(rocksdb::ReadOptions(), meta, rocksdb::Slice(kFormatKey.data(), kFormatKey.size()), &stored);
  if (s.ok()) {
    if (stored == kFormat) return Status::Ok();
    return FailedPrecondition(refuse + "in state format " + stored + remedy);
  }
  if (!s.IsNotFound()) return FromRocks(s, "read the state format");
  for (rocksdb::ColumnFamilyHandle* f : families) {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), f));
    it->SeekToFirst();
    if (it->Valid()) {
      return FailedPrecondition(refuse + "by a development build before state formats were numbered" + remedy);
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "read the state"));
  }
  rocksdb::WriteOptions synced;
  synced.sync = true;
  return FromRocks(db.Put(synced, meta, rocksdb::Slice(kFormatKey.data(), kFormatKey.size()),
                          rocksdb::Slice(kFormat.data(), kFormat.size())),
                   "write the state format");
}

// How often a file of an expiring family is compacted even when nothing else would
// compact it, so its expired rows do not stay on disk indefinitely under light traffic.
constexpr uint64_t kExpiryRecompactSeconds = 7 * 24 * 3600;

}  // namespace

std::optional<int64_t> ExpiryCutoff(const Expiry& expiry, const Clock& clock) {
  std::optional<int64_t> now = expiry.now_ms
                                   ? expiry.now_ms()
                                   : std::optional<int64_t>(clock.Now().time_since_epoch().count());
  if (!now) return std::nullopt;
  return *now - expiry.window.count();
}

std::string OffsetKey(const std::string& topic, int partition) {
  std::string k = "offset";
  k.push_back('\0');
  k += topic;
  k.push_back('\0');
  AppendBigEndian(k, static_cast<uint32_t>(partition), 4);
  return k;
}

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& dir, StateOptions state_options) {
  std::unique_ptr<StateStore> store(new StateStore());
  if (state_options.clock != nullptr) store->clock_ = state_options.clock;
  store->expiry_ = state_options.expiry;
  const Clock& clock = *store->clock_;
  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // Point-in-time recovery: after a crash the database is a prefix of the committed
  // batches; the bus replays the rest from the stored offsets.
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // A full disk: no LOG file, and the store resumes itself (rocksdb_hooks.h).
  options.info_log = NewRocksLogger();
  options.listeners.push_back(NewManualRecoveryListener());
  // One memory budget for every family's memtables (each may grow to 64 MiB, and several
  // families fill at once): past it the largest is flushed, so the processor's memory
  // stays bounded however the load is spread over the families.
  options.db_write_buffer_size = kMemtableBudgetBytes;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (size_t f = 0; f < std::size(kFamilyNames); ++f) {
    const char* name = kFamilyNames[f];
    rocksdb::ColumnFamilyOptions cf;
    if (auto e = state_options.expiry.find(static_cast<Family>(f)); e != state_options.expiry.end()) {
      cf.compaction_filter_factory = std::make_shared<ExpiryFilterFactory>(e->second, clock, store->expired_[f]);
      cf.periodic_compaction_seconds = kExpiryRecompactSeconds;
    }
    const std::string_view family(name);
    // The dedup and events families are read only at rows they hold: a dedup row the
    // dedup index names, an event row its dedup record names. Bloom filters (~1.2 bytes a
    // row, held in memory) would answer nothing there.
    if (family == "dedup" || family == "events") {
      rocksdb::BlockBasedTableOptions unfiltered = table;
      unfiltered.filter_policy.reset();
      cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(unfiltered));
    } else {
      cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    }
    if (family == "dedup") {
      // Its rows are keyed by time, so a batch's rows land after the last batch's in the
      // memtable; a hint (one for the whole family: an empty prefix) makes each insert a
      // step from the last instead of a search from the top.
      cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(0));
    }
    if (auto m = state_options.merge_operators.find(static_cast<Family>(f));
        m != state_options.merge_operators.end()) {
      cf.merge_operator = m->second;
    }
    families.emplace_back(name, cf);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, families, &handles, &db);
  if (!s.ok()) return FromRocks(s, "open state in " + dir);
  store->db_.reset(db);
  store->handles_.assign(handles.begin() + 1, handles.end());
  db->DestroyColumnFamilyHandle(handles[0]);
  RETURN_IF_ERROR(CheckFormat(*db, store->handles_, store->handle(Family::kMeta), dir));

  return store;
}

std::optional<int64_t> StateStore::ExpiryCutoff(Family f) const {
  auto e = expiry_.find(f);
  if (e == expiry_.end()) return std::nullopt;
  return tokenmeter::ExpiryCutoff(e->second, *clock_);
}

StateStore::~StateStore() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  if (db_) (void)db_->Close();  // errors on close have nowhere to go; the WAL is synced
}

Status StateStore::MultiGet(Family f, std::span<const std::string_view> keys,
                            std::vector<std::optional<std::string>>& values, bool sorted) const {
  // The batched form: one pass through each memtable and file for a run of keys, with
  // their bloom probes together, and no string per key. Runs of RocksDB's own batch size
  // (MultiGetContext::MAX_BATCH_SIZE): its per-call key lists stay in their inline
  // storage instead of growing a vector one key at a time.
  QuietPerfCounters();
  constexpr size_t kRun = 32;
  std::array<rocksdb::Slice, kRun> slices;
  std::array<rocksdb::PinnableSlice, kRun> raw;
  std::array<rocksdb::Status, kRun> st;
  values.assign(keys.size(), std::nullopt);
  for (size_t at = 0; at < keys.size(); at += kRun) {
    const size_t n = std::min(kRun, keys.size() - at);
    for (size_t i = 0; i < n; ++i) slices[i] = rocksdb::Slice(keys[at + i]);
    db_->MultiGet(rocksdb::ReadOptions(), handle(f), n, slices.data(), raw.data(), st.data(),
                  sorted);
    for (size_t i = 0; i < n; ++i) {
      if (st[i].ok()) {
        values[at + i].emplace(raw[i].data(), raw[i].size());
      } else if (!st[i].IsNotFound()) {
        return FromRocks(st[i], "multiget");
      }
      raw[i].Reset();
    }
  }
  return Status::Ok();
}

StateStore::Snapshot::~Snapshot() { store_.db_->ReleaseSnapshot(snap_); }

std::unique_ptr<StateStore::Snapshot> StateStore::TakeSnapshot() const {
  return std::unique_ptr<Snapshot>(new Snapshot(*this, db_->GetSnapshot()));
}

Result<std::optional<std::string>> StateStore::Get(Family f, const std::string& key, const Snapshot* at) const {
  std::string v;
  rocksdb::ReadOptions ro;
  if (at != nullptr) ro.snapshot = at->snap_;
  rocksdb::Status s = db_->Get(ro, handle(f), key, &v);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "get");
  return std::optional<std::string>(std::move(v));
}

Result<std::optional<int64_t>> StateStore::NextOffset(const std::string& topic, int partition) const {
  Result<std::optional<std::string>> v = Get(Family::kMeta, OffsetKey(topic, partition));
  if (!v.ok()) return v.status();
  if (!v->has_value()) return std::optional<int64_t>();
  const std::string& b = **v;
  if (b.size() != 8) return Internal("corrupt offset record");
  uint64_t x = 0;
  for (unsigned char c : b) x = (x << 8) | c;
  return std::optional<int64_t>(static_cast<int64_t>(x));
}

StateStore::Batch::Batch(StateStore& store) : store_(store) {
  std::lock_guard<std::mutex> lock(store.spare_mu_);
  if (!store.spare_.empty()) {
    wb_ = std::move(store.spare_.back());
    store.spare_.pop_back();
  } else {
    wb_ = std::make_unique<rocksdb::WriteBatch>();
  }
}
StateStore::Batch::~Batch() {
  if (wb_) store_.Recycle(std::move(wb_));
}
StateStore::Batch::Batch(Batch&&) noexcept = default;

void StateStore::Batch::Put(Family f, std::string_view key, std::string_view value) {
  (void)wb_->Put(store_.handle(f), key, value);  // in-memory append; cannot fail here
}
void StateStore::Batch::Merge(Family f, const std::string& key, const std::string& value) {
  (void)wb_->Merge(store_.handle(f), key, value);  // in-memory append; cannot fail here
}
void StateStore::Batch::Delete(Family f, const std::string& key) {
  (void)wb_->Delete(store_.handle(f), key);  // in-memory append; cannot fail here
}
void StateStore::Batch::SetNextOffset(const std::string& topic, int partition, int64_t next) {
  std::string v;
  AppendBigEndian(v, static_cast<uint64_t>(next), 8);
  Put(Family::kMeta, OffsetKey(topic, partition), v);
}
size_t StateStore::Batch::Count() const { return static_cast<size_t>(wb_->Count()); }

StateStore::Batch StateStore::NewBatch() { return Batch(*this); }

void StateStore::Recycle(std::unique_ptr<rocksdb::WriteBatch> wb) {
  // Enough spares for every partition of a poll plus the alert writers; an outsized
  // batch (a catch-up after a long stop) is freed rather than kept.
  constexpr size_t kMaxSpares = 16;
  constexpr size_t kMaxKeptBytes = 64u << 20;
  if (wb->GetDataSize() > kMaxKeptBytes) return;
  wb->Clear();
  std::lock_guard<std::mutex> lock(spare_mu_);
  if (spare_.size() < kMaxSpares) spare_.push_back(std::move(wb));
}

Status StateStore::Commit(Batch& batch, bool sync) {
  QuietPerfCounters();
  if (write_failed_.load(std::memory_order_acquire)) return WriteFailure();
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  std::shared_lock wal(wal_mu_);  // the failure below is marked before a sync can start
  Status s = FromRocks(db_->Write(wo, batch.wb_.get()), "commit batch");
  if (!s.ok()) {
    std::lock_guard lock(failure_mu_);
    if (!write_failed_.load()) {
      write_failure_ = s;
      write_failed_.store(true, std::memory_order_release);
      Log(LogLevel::kError, "processor", "state_writes_stopped", {{"error", s.ToString()}});
    }
  }
  return s;
}

Status StateStore::SyncWal() {
  std::unique_lock wal(wal_mu_);  // no commit in flight: none can fail under the sync
  if (write_failed_.load(std::memory_order_acquire)) return WriteFailure();
  return FromRocks(db_->SyncWAL(), "sync WAL");
}

Status StateStore::WriteFailure() const {
  std::lock_guard lock(failure_mu_);
  return write_failure_;
}

Status StateStore::Recover() {
  if (!write_failed_.load(std::memory_order_acquire)) return Status::Ok();
  RETURN_IF_ERROR(FromRocks(db_->Resume(), "resume the state store"));
  std::lock_guard lock(failure_mu_);
  write_failure_ = Status::Ok();
  write_failed_.store(false, std::memory_order_release);
  Log(LogLevel::kInfo, "processor", "state_recovered", {});
  return Status::Ok();
}

Status StateStore::CompactAll(Family f) {
  rocksdb::CompactRangeOptions o;
  // Rewrite the bottom level too, so every row meets its family's filter.
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return FromRocks(db_->CompactRange(o, handle(f), nullptr, nullptr), "compact");
}

}  // namespace tokenmeter

namespace tokenmeter {

uint64_t StateStore::BackgroundErrors() const {
  uint64_t v = 0;
  return db_->GetIntProperty("rocksdb.background-errors", &v) ? v : 0;
}

uint64_t StateStore::LiveDataBytes() const {
  uint64_t total = 0;
  for (auto* h : handles_) {
    uint64_t v = 0;
    if (db_->GetIntProperty(h, "rocksdb.estimate-live-data-size", &v)) total += v;
  }
  return total;
}

}  // namespace tokenmeter
