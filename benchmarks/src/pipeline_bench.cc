// The processor's own work, without the bus: the benchmark stream's canonical events,
// spread over partitions by workspace, go through BatchPipeline (decode, dedup, price,
// aggregate, evaluate, one WriteBatch per partition batch, one WAL sync per poll) on one
// thread against a fresh state directory. The figure is CPU per event of the processor's
// code path alone (the rollup journal's folds included), repeatable enough to compare two
// builds and to profile; the end-to-end
// processor phase of run.sh adds the consumer and the parallel partitions.
#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "aggregate/rollup_journal.h"
#include "bench_args.h"
#include "bench_events.h"
#include "bench_report.h"
#include "pipeline.h"
#include "price/price_book.h"
#include "processor_service.h"
#include "retention.h"
#include "state/state_store.h"
#include "tokenmeter/bus/embedded_log.h"
#include "tokenmeter/model/event_codec.h"
#include "tokenmeter/model/normalizer.h"

namespace tokenmeter::bench {
namespace {

struct Tally {
  uint64_t events, distinct, counted, duplicates, failed;
};

// Prints the figures, or fails unless every distinct id was counted once and nothing failed.
int Finish(const Tally& t, double seconds, double cpu) {
  if (t.failed != 0 || t.counted != t.distinct || t.counted + t.duplicates != t.events) {
    std::fprintf(
        stderr, "pipeline: counted %llu of %llu distinct, %llu duplicates, %llu failures\n",
        static_cast<unsigned long long>(t.counted), static_cast<unsigned long long>(t.distinct),
        static_cast<unsigned long long>(t.duplicates), static_cast<unsigned long long>(t.failed));
    return 1;
  }
  Report r;
  r.Add("events", static_cast<double>(t.events));
  r.Add("seconds", seconds);
  r.Add("events_per_s", static_cast<double>(t.events) / seconds);
  r.Add("cpu_us_per_event", cpu * 1e6 / static_cast<double>(t.events));
  r.Print();
  return 0;
}

// --bus log: serve's processor without the edge. The whole stream is first written to an
// embedded log (one partition, as in `serve`); then a ProcessorService (read-ahead as
// `--read-ahead`, on by default as in serve) applies it in polls of `--batch` records,
// the rollup journal folded once a second on this thread. The figure is wall-clock
// events/s of that drain, the bound on serve's end-to-end rate.
int DrainLog(const Args& a, std::vector<std::vector<ConsumedRecord>>& logs, uint64_t distinct,
             StateStore& store, RollupJournal& journal, BatchPipeline& pipeline) {
  Result<std::unique_ptr<EmbeddedLog>> log =
      EmbeddedLog::Open({a.Str("dir") + "/log", "events.log", 1u << 20});
  Result<std::unique_ptr<EmbeddedLog>> dlq =
      EmbeddedLog::Open({a.Str("dir") + "/log", "dlq.log", 1u << 20});
  if (!log.ok() || !dlq.ok()) {
    std::fprintf(stderr, "pipeline: embedded log: %s\n",
                 (log.ok() ? dlq.status() : log.status()).ToString().c_str());
    return 1;
  }
  uint64_t n = 0;
  for (std::vector<ConsumedRecord>& part : logs) {
    std::vector<BusRecord> records;
    for (ConsumedRecord& m : part) records.push_back({std::move(m.key), std::move(m.value)});
    n += records.size();
    std::promise<Status> done;
    (*log)->Publish(std::move(records), [&done](Status s) { done.set_value(std::move(s)); });
    if (Status s = done.get_future().get(); !s.ok()) {
      std::fprintf(stderr, "pipeline: fill: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  Result<std::unique_ptr<Subscriber>> sub =
      (*log)->Subscribe([](int) { return std::optional<int64_t>(); });
  if (!sub.ok()) return 1;
  ProcessorService service(store, pipeline, **sub, **dlq, "bench",
                           static_cast<size_t>(a.Num("batch", 10000)), a.Num("read-ahead", 1) != 0);
  uint64_t counted = 0, duplicates = 0, seen = 0, failed = 0;
  double cpu_start = ProcessCpuSeconds();
  auto start = std::chrono::steady_clock::now();
  auto last_fold = start;
  while (seen < n && SecondsSince(start) < 600) {
    Result<BatchStats> r = service.RunOnce(std::chrono::milliseconds(100));
    if (!r.ok()) {
      ++failed;
      break;
    }
    seen += r->consumed;
    counted += r->counted;
    duplicates += r->duplicates;
    failed += r->dead_lettered;
    if (std::chrono::steady_clock::now() - last_fold >= std::chrono::seconds(1) || seen >= n) {
      if (!journal.Fold().ok()) ++failed;
      last_fold = std::chrono::steady_clock::now();
    }
  }
  return Finish({n, distinct, counted, duplicates, failed}, SecondsSince(start),
                ProcessCpuSeconds() - cpu_start);
}

}  // namespace

// pipeline --dir D --events N [--partitions P] [--batch B] [--split 1] [stream options]
//          [--bus log [--read-ahead 0|1]]
// --split 1: each batch's per-record work is shared with a second thread, as the
// processor does for a single busy partition (wall-clock events/s is then the figure).
int RunPipeline(const Args& a) {
  StreamShape shape = ShapeFrom(a);
  uint64_t n = static_cast<uint64_t>(a.Num("events", 200000));
  int partitions = static_cast<int>(a.Num("partitions", 4));
  size_t batch = static_cast<size_t>(a.Num("batch", 10000));

  // The records each partition would hold, in offset order (workspace -> partition as a
  // keyed producer would place them: same workspace, same partition).
  std::vector<std::vector<ConsumedRecord>> logs(static_cast<size_t>(partitions));
  uint64_t distinct = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t logical = LogicalIndex(shape, i);
    if (logical + 1 > distinct) distinct = logical + 1;
    UsageEvent e = CanonicalEvent(shape, logical);
    auto p = static_cast<size_t>(std::hash<std::string>()(e.workspace) % static_cast<size_t>(partitions));
    ConsumedRecord m;
    m.partition = static_cast<int>(p);
    m.offset = static_cast<int64_t>(logs[p].size());
    m.key = e.workspace;
    AppendBusRecord(shape, e, m.value);
    logs[p].push_back(std::move(m));
  }

  Result<Normalizer> normalizer = Normalizer::FromEmbeddedTable();
  Result<PriceBook> prices = PriceBook::FromEmbedded();
  Result<std::unique_ptr<StateStore>> store = StateStore::Open(a.Str("dir"), ProcessorStateOptions());
  if (!normalizer.ok() || !prices.ok() || !store.ok()) {
    std::fprintf(stderr, "pipeline: setup failed %s\n",
                 store.ok() ? "" : store.status().ToString().c_str());
    return 1;
  }
  IngestLimits limits;
  EventParser parser(limits, *normalizer);
  Result<std::unique_ptr<DedupIndex>> dedup = DedupIndex::Load(**store);
  Result<std::unique_ptr<RollupJournal>> journal = RollupJournal::Open(**store);
  if (!dedup.ok() || !journal.ok()) {
    std::fprintf(stderr, "pipeline: %s\n",
                 (dedup.ok() ? journal.status() : dedup.status()).ToString().c_str());
    return 1;
  }
  SplitRunner split = [](size_t count, const std::function<void(size_t, size_t)>& work) {
    std::future<void> other =
        std::async(std::launch::async, [&work, count] { work(count / 2, count); });
    work(0, count / 2);
    other.get();
  };
  const SplitRunner* splitting = a.Num("split", 0) != 0 ? &split : nullptr;
  BatchPipeline pipeline(**store, **dedup, **journal, parser, std::make_shared<const PriceBook>(std::move(*prices)), "bench");
  if (a.Str("bus") == "log") {
    return DrainLog(a, logs, distinct, **store, **journal, pipeline);
  }

  uint64_t counted = 0, duplicates = 0, failed = 0;
  // ~1 s of the processor at 100k events/s.
  const auto fold_every = static_cast<size_t>(a.Num("fold-every", 100000));
  size_t since_fold = 0;
  double cpu_start = ProcessCpuSeconds();
  auto start = std::chrono::steady_clock::now();
  std::vector<size_t> at(logs.size(), 0);
  for (bool more = true; more;) {
    more = false;
    for (size_t p = 0; p < logs.size(); ++p) {
      if (at[p] >= logs[p].size()) continue;
      size_t end = std::min(logs[p].size(), at[p] + batch);
      std::vector<ConsumedRecord> poll(std::make_move_iterator(logs[p].begin() + static_cast<long>(at[p])),
                                   std::make_move_iterator(logs[p].begin() + static_cast<long>(end)));
      at[p] = end;
      more = more || end < logs[p].size();
      Result<PreparedBatch> prepared = pipeline.Prepare(static_cast<int>(p), poll, splitting);
      if (!prepared.ok() || !pipeline.Commit(*prepared, /*sync=*/false).ok()) {
        ++failed;
        continue;
      }
      since_fold += poll.size();
      counted += prepared->stats.counted;
      duplicates += prepared->stats.duplicates;
      failed += prepared->stats.dead_lettered;
    }
    if (!(*store)->SyncWal().ok()) ++failed;
    // The journal is folded here, on this thread, about once per `fold_every` events, so
    // the figure includes the fold's work (serve folds once a second on its own thread).
    if (since_fold >= fold_every || !more) {
      if (!(*journal)->Fold().ok()) ++failed;
      since_fold = 0;
    }
  }
  return Finish({n, distinct, counted, duplicates, failed}, SecondsSince(start),
                ProcessCpuSeconds() - cpu_start);
}

}  // namespace tokenmeter::bench
