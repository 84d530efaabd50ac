// The processor's own work, without the bus: the benchmark stream's canonical events,
// spread over partitions by workspace, go through BatchPipeline (decode, dedup, price,
// aggregate, evaluate, one WriteBatch per partition batch, one WAL sync per poll) on one
// thread against a fresh state directory. The figure is CPU per event of the processor's
// code path alone (the rollup journal's folds included), repeatable enough to compare two
// builds and to profile; the end-to-end
// processor phase of run.sh adds the consumer and the parallel partitions.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench_args.h"
#include "bench_events.h"
#include "bench_report.h"
#include "pipeline.h"
#include "price/price_book.h"
#include "aggregate/rollup_journal.h"
#include "state/state_store.h"
#include "tokenmeter/model/event_codec.h"
#include "tokenmeter/model/normalizer.h"

namespace tokenmeter::bench {

// pipeline --dir D --events N [--partitions P] [--batch B] [stream options]
int RunPipeline(const Args& a) {
  StreamShape shape = ShapeFrom(a);
  uint64_t n = static_cast<uint64_t>(a.Num("events", 200000));
  int partitions = static_cast<int>(a.Num("partitions", 4));
  size_t batch = static_cast<size_t>(a.Num("batch", 10000));

  // The records each partition would hold, in offset order (workspace -> partition as a
  // keyed producer would place them: same workspace, same partition).
  std::vector<std::vector<BusMessage>> logs(static_cast<size_t>(partitions));
  uint64_t distinct = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t logical = LogicalIndex(shape, i);
    if (logical + 1 > distinct) distinct = logical + 1;
    UsageEvent e = CanonicalEvent(shape, logical);
    auto p = static_cast<size_t>(std::hash<std::string>()(e.workspace) % static_cast<size_t>(partitions));
    BusMessage m;
    m.partition = static_cast<int>(p);
    m.offset = static_cast<int64_t>(logs[p].size());
    m.key = e.workspace;
    EncodeCanonical(e, m.value);
    logs[p].push_back(std::move(m));
  }

  Result<Normalizer> normalizer = Normalizer::FromEmbeddedTable();
  Result<PriceBook> prices = PriceBook::FromEmbedded();
  Result<std::unique_ptr<StateStore>> store = StateStore::Open(a.Str("dir"));
  if (!normalizer.ok() || !prices.ok() || !store.ok()) {
    std::fprintf(stderr, "pipeline: setup failed\n");
    return 1;
  }
  IngestLimits limits;
  EventParser parser(limits, *normalizer);
  Result<std::unique_ptr<RollupJournal>> journal = RollupJournal::Open(**store);
  if (!journal.ok()) {
    std::fprintf(stderr, "pipeline: %s\n", journal.status().ToString().c_str());
    return 1;
  }
  BatchPipeline pipeline(**store, **journal, parser, std::make_shared<const PriceBook>(std::move(*prices)), "bench");

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
      std::vector<BusMessage> poll(std::make_move_iterator(logs[p].begin() + static_cast<long>(at[p])),
                                   std::make_move_iterator(logs[p].begin() + static_cast<long>(end)));
      at[p] = end;
      more = more || end < logs[p].size();
      Result<PreparedBatch> prepared = pipeline.Prepare(static_cast<int>(p), poll);
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
  double seconds = SecondsSince(start);
  double cpu = ProcessCpuSeconds() - cpu_start;
  if (failed != 0 || counted != distinct || counted + duplicates != n) {
    std::fprintf(stderr, "pipeline: counted %llu of %llu distinct, %llu duplicates, %llu failures\n",
                 static_cast<unsigned long long>(counted), static_cast<unsigned long long>(distinct),
                 static_cast<unsigned long long>(duplicates), static_cast<unsigned long long>(failed));
    return 1;
  }
  Report r;
  r.Add("events", static_cast<double>(n));
  r.Add("seconds", seconds);
  r.Add("events_per_s", static_cast<double>(n) / seconds);
  r.Add("cpu_us_per_event", cpu * 1e6 / static_cast<double>(n));
  r.Print();
  return 0;
}

}  // namespace tokenmeter::bench
