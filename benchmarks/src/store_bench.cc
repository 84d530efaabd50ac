// The RocksDB ceiling: random keys written in synced 1000-key WriteBatches, then point
// lookups (half present, half absent) through a bloom filter, with the options the
// processor's state store uses (processor/src/state/state_store.cc).
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include "bench_args.h"
#include "bench_report.h"

namespace tokenmeter::bench {
namespace {

// A dedup-shaped key: workspace, NUL, a request id of 24 random hex digits.
std::string KeyOf(uint64_t i, uint64_t salt) {
  std::mt19937_64 g(i * 0x9e3779b97f4a7c15ull + salt);
  char buf[48];
  int n = std::snprintf(buf, sizeof(buf), "bench%c%016llx%08llx", 0, static_cast<unsigned long long>(g()),
                        static_cast<unsigned long long>(g() & 0xffffffffull));
  return std::string(buf, static_cast<size_t>(n));
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
  r.Print();
  return 0;
}

}  // namespace tokenmeter::bench
