// The RocksDB ceilings: random keys written in synced 1000-key WriteBatches, then point
// lookups (half present, half absent) through a bloom filter, with the options the
// processor's state store uses (processor/src/state/state_store.cc); and the least any
// store of every event costs here: event-shaped rows appended in time order, as the
// processor writes its events family (10,000-row batches, the WAL synced every 100 ms, the
// memtables flushed at the end), in rows/s and CPU per row.
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/perf_level.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "bench_args.h"
#include "bench_report.h"

namespace tokenmeter::bench {
namespace {

// 24 hex digits from `seed` (splitmix64: cheap, so the figures are RocksDB's, not the
// keys'; distinct seeds give distinct digits).
void AppendIdHex(uint64_t seed, std::string& out) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int d = 0; d < 16; ++d) out.push_back(kHex[(z >> (4 * d)) & 0xf]);
  for (int d = 0; d < 8; ++d) out.push_back(kHex[(seed >> (4 * d)) & 0xf]);
}

// A dedup-shaped key: workspace, NUL, a request id of 24 random-looking hex digits.
std::string KeyOf(uint64_t i, uint64_t salt) {
  std::string key("bench\0", 6);
  AppendIdHex(i * 0x9e3779b97f4a7c15ull + salt, key);
  return key;
}

// An events-family-shaped key: NUL, receive and event time (8 bytes each, big-endian, ms),
// the data mode, one of 16 workspaces and a request id. 200 rows a millisecond, in order.
void AppendKeyOf(uint64_t i, std::string& key) {
  key.assign(1, '\0');
  uint64_t ms = 1'790'000'000'000ull + i / 200;
  for (int twice = 0; twice < 2; ++twice) {
    for (int b = 7; b >= 0; --b) key.push_back(static_cast<char>((ms >> (8 * b)) & 0xff));
  }
  key.push_back('r');
  key.append("bench");
  key.push_back(static_cast<char>('a' + i % 16));
  key.push_back('\0');
  AppendIdHex(i, key);
}

// Appends n event-shaped rows to a fresh database in `dir` as the processor writes its
// events family: the processor's memtable budget, no bloom filter, perf counters off,
// unsynced 10,000-row batches with the WAL synced every 100 ms, then the memtables
// flushed (so each row's flush is paid too). Rows/s and CPU µs per row, all threads.
int RunAppends(const std::string& dir, uint64_t n, Report& r) {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  rocksdb::Options options;
  options.create_if_missing = true;
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  options.db_write_buffer_size = 64u << 20;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "rocksdb open %s: %s\n", dir.c_str(), s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value(130, 'e');  // about a stored event's row
  std::string key;
  rocksdb::WriteBatch wb;
  rocksdb::WriteOptions wo;
  wo.sync = false;
  constexpr auto kSyncEvery = std::chrono::milliseconds(100);
  double cpu0 = ProcessCpuSeconds();
  auto start = std::chrono::steady_clock::now();
  auto last_sync = start;
  for (uint64_t i = 0; i < n && s.ok();) {
    wb.Clear();
    for (int k = 0; k < 10000 && i < n; ++k, ++i) {
      AppendKeyOf(i, key);
      (void)wb.Put(key, value);
    }
    s = db->Write(wo, &wb);
    if (s.ok() && std::chrono::steady_clock::now() - last_sync >= kSyncEvery) {
      s = db->SyncWAL();
      last_sync = std::chrono::steady_clock::now();
    }
  }
  if (s.ok()) s = db->SyncWAL();
  if (s.ok()) s = db->Flush(rocksdb::FlushOptions());
  if (!s.ok()) {
    std::fprintf(stderr, "rocksdb appends: %s\n", s.ToString().c_str());
    return 1;
  }
  double secs = SecondsSince(start), cpu = ProcessCpuSeconds() - cpu0;
  std::string v;
  AppendKeyOf(n / 2, key);
  if (!db->Get(rocksdb::ReadOptions(), key, &v).ok() || v != value) {
    std::fprintf(stderr, "rocksdb appends: row %llu not read back\n", static_cast<unsigned long long>(n / 2));
    return 1;
  }
  r.Add("append_rows_per_s", static_cast<double>(n) / secs);
  r.Add("append_cpu_us_per_row", cpu * 1e6 / static_cast<double>(n));
  return 0;
}

}  // namespace

// rocksdb --dir D --keys N
int RunRocksDb(const Args& a) {
  uint64_t n = static_cast<uint64_t>(a.Num("keys", 1000000));
  rocksdb::Options options;
  options.create_if_missing = true;
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, a.Str("dir"), &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "rocksdb open: %s\n", s.ToString().c_str());
    return 1;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value(41, 'v');  // the size of a dedup record with its event key
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < n;) {
    rocksdb::WriteBatch wb;
    for (int k = 0; k < 1000 && i < n; ++k, ++i) (void)wb.Put(KeyOf(i, 1), value);
    s = db->Write(wo, &wb);
    if (!s.ok()) {
      std::fprintf(stderr, "rocksdb write: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  double write_s = SecondsSince(start);
  std::string v;
  uint64_t found = 0;
  start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    // Even i: a written key (in random order); odd i: a key never written.
    std::string k = (i % 2 == 0) ? KeyOf((i * 7919) % n, 1) : KeyOf(i, 2);
    s = db->Get(rocksdb::ReadOptions(), k, &v);
    if (s.ok()) {
      ++found;
    } else if (!s.IsNotFound()) {
      std::fprintf(stderr, "rocksdb get: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  double read_s = SecondsSince(start);
  if (found != (n + 1) / 2) {
    std::fprintf(stderr, "rocksdb: found %llu of %llu written keys\n", static_cast<unsigned long long>(found),
                 static_cast<unsigned long long>((n + 1) / 2));
    return 1;
  }
  Report r;
  r.Add("keys", static_cast<double>(n));
  r.Add("writes_per_s", static_cast<double>(n) / write_s);
  r.Add("lookups_per_s", static_cast<double>(n) / read_s);
  db.reset();
  if (RunAppends(a.Str("dir") + "/appends", n, r) != 0) return 1;
  r.Print();
  return 0;
}

}  // namespace tokenmeter::bench
