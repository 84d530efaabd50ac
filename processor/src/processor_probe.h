// ProcessorProbe: every tokenmeter_processor_* metric. Call sites say what happened;
// labels come from fixed values only. Any thread.
#ifndef TOKENMETER_PROCESSOR_PROCESSOR_PROBE_H_
#define TOKENMETER_PROCESSOR_PROCESSOR_PROBE_H_

#include <prometheus/family.h>

#include <array>
#include <chrono>
#include <map>

#include "pipeline.h"
#include "tokenmeter/http/probe_metrics.h"

namespace tokenmeter {

class ProcessorProbe {
 public:
  explicit ProcessorProbe(prometheus::Registry& registry);
  void BatchApplied(const BatchStats& s, std::chrono::steady_clock::duration took);
  void BatchFailed() { batch_failures_->Increment(); }
  void Partitions(size_t assigned, size_t history_lost);
  // Lag per owned partition (label: the partition number, bounded by the topic's count).
  void Lag(const std::map<int, int64_t>& lag);
  // RocksDB health: background errors (a failed flush or compaction, e.g. disk full), the
  // estimated live data size, and why commits are refused (StateStore::WriteFailure; OK
  // when they are not).
  void State(uint64_t background_errors, uint64_t live_bytes, const Status& write_failure);
  // The dedup index (DedupIndex): slots holding an entry, and its memory.
  void DedupIndexSize(size_t entries, size_t bytes);
  // Rows dropped by retention in compactions so far (StateStore::Expired), per family.
  void Expired(uint64_t dedup_rows, uint64_t event_rows, uint64_t rollup_rows);
  // One fold of the rollup journal (`rows`: distinct 1-minute rows it had to fold).
  void RollupFold(bool ok, size_t rows, std::chrono::steady_clock::duration took);
  void RollupPending(size_t rows) { rollup_pending_->Set(static_cast<double>(rows)); }
  // The outbox: deliveries pending and dead, age of the oldest pending one.
  void OutboxDepth(size_t pending, size_t dead, double oldest_age_seconds);

 private:
  prometheus::Counter* consumed_;
  prometheus::Counter* counted_;
  prometheus::Counter* duplicates_;
  prometheus::Counter* conflicts_;
  static constexpr size_t kDeadReasons = static_cast<size_t>(DeadLetterReason::kCount);
  std::array<prometheus::Counter*, kDeadReasons> dead_lettered_{};
  prometheus::Counter* unpriced_;
  prometheus::Counter* redelivered_;
  prometheus::Counter* batch_failures_;
  prometheus::Histogram* batch_seconds_;
  prometheus::Gauge* assigned_;
  prometheus::Gauge* history_lost_;
  prometheus::Family<prometheus::Gauge>* lag_;
  std::map<int, prometheus::Gauge*> lag_by_partition_;
  prometheus::Gauge* background_errors_;
  prometheus::Gauge* live_bytes_;
  prometheus::Gauge* writes_stopped_;
  prometheus::Gauge* disk_full_;
  prometheus::Gauge* dedup_index_entries_;
  prometheus::Gauge* dedup_index_bytes_;
  prometheus::Counter* expired_dedup_;
  prometheus::Counter* expired_events_;
  prometheus::Counter* expired_rollups_;
  uint64_t expired_dedup_seen_ = 0;   // the store's totals at the last Expired()
  uint64_t expired_events_seen_ = 0;
  uint64_t expired_rollups_seen_ = 0;
  static constexpr size_t kAlertTypes = static_cast<size_t>(AlertType::kCount);
  std::array<prometheus::Counter*, kAlertTypes> alerts_decided_{};
  prometheus::Counter* rollup_folds_;
  prometheus::Counter* rollup_fold_failures_;
  prometheus::Counter* rollup_folded_rows_;
  prometheus::Histogram* rollup_fold_seconds_;
  prometheus::Gauge* rollup_pending_;
  prometheus::Gauge* outbox_pending_;
  prometheus::Gauge* outbox_dead_;
  prometheus::Gauge* outbox_oldest_age_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_PROCESSOR_PROBE_H_
