#include "processor_probe.h"

namespace tokenmeter {
ProcessorProbe::ProcessorProbe(prometheus::Registry& r) {
  consumed_ = NewCounter(r, "tokenmeter_processor_events_consumed_total",
                      "Bus records read at or past the stored offset");
  counted_ = NewCounter(r, "tokenmeter_processor_events_counted_total",
                     "New events applied to state (each (workspace, request_id) once)");
  duplicates_ = NewCounter(r, "tokenmeter_processor_duplicates_total",
                        "Records whose (workspace, request_id) was already counted");
  conflicts_ = NewCounter(r, "tokenmeter_processor_dedup_conflicts_total",
                       "Duplicates whose content differs from the original (not applied)");
  dead_lettered_ = NewCountersByEnum<DeadLetterReason, kDeadReasons>(
      r, "tokenmeter_processor_dead_lettered_total", "Records that failed validation, sent to the DLQ topic, by reason",
      "reason", DeadLetterReasonName);
  unpriced_ = NewCounter(r, "tokenmeter_processor_unpriced_total",
                      "Events whose model has no price (counted, cost unknown)");
  redelivered_ = NewCounter(r, "tokenmeter_processor_redelivered_total",
                         "Records below the stored offset, skipped");
  batch_failures_ = NewCounter(r, "tokenmeter_processor_batch_failures_total",
                            "Batches not committed (state, DLQ or commit error); retried");
  batch_seconds_ = NewHistogram(r, "tokenmeter_processor_batch_commit_seconds",
                             "Time to prepare, dead-letter and commit one partition batch",
                             {0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5});
  assigned_ = NewGauge(r, "tokenmeter_processor_assigned_partitions",
                    "Bus partitions this processor owns");
  history_lost_ = NewGauge(r, "tokenmeter_processor_history_lost_partitions",
                        "Owned partitions rebuilt from a log that no longer starts at 0");
  lag_ = &prometheus::BuildGauge().Name("tokenmeter_processor_consumer_lag_records")
              .Help("Records on the bus not yet consumed, per owned partition").Register(r);
  background_errors_ = NewGauge(r, "tokenmeter_processor_rocksdb_background_errors",
                             "RocksDB background errors (flush/compaction), e.g. disk full");
  live_bytes_ = NewGauge(r, "tokenmeter_processor_rocksdb_live_data_bytes",
                      "Estimated live data in the processor's RocksDB");
  writes_stopped_ = NewGauge(r, "tokenmeter_processor_state_writes_stopped",
                          "1 while the state store refuses commits after a failed write");
  disk_full_ = NewGauge(r, "tokenmeter_processor_state_disk_full",
                     "1 while the state store refuses commits because its disk is full");
  dedup_index_entries_ =
      NewGauge(r, "tokenmeter_processor_dedup_index_entries",
            "Ids the in-memory dedup index holds (those past the window included until "
            "their slots are reused)");
  dedup_index_bytes_ =
      NewGauge(r, "tokenmeter_processor_dedup_index_bytes", "Memory of the in-memory dedup index");
  auto& expired = prometheus::BuildCounter()
                      .Name("tokenmeter_processor_rows_expired_total")
                      .Help("Rows dropped by retention in RocksDB compactions, by family (dedup: ids past the "
                            "dedup window; events: event rows past their retention)")
                      .Register(r);
  expired_dedup_ = &expired.Add({{"family", "dedup"}});
  expired_events_ = &expired.Add({{"family", "events"}});
  expired_rollups_ = &expired.Add({{"family", "rollups"}});
  alerts_decided_ = NewCountersByEnum<AlertType, kAlertTypes>(
      r, "tokenmeter_alerts_decided_total", "Alerts decided (firing, reminder or resolved), by type", "type",
      AlertTypeName);
  rollup_folds_ = NewCounter(r, "tokenmeter_processor_rollup_folds_total",
                          "Folds of the rollup journal into the rollup rows that committed");
  rollup_fold_failures_ = NewCounter(r, "tokenmeter_processor_rollup_fold_failures_total",
                                  "Folds of the rollup journal that failed (retried; queries still see the deltas)");
  rollup_folded_rows_ = NewCounter(r, "tokenmeter_processor_rollup_folded_rows_total",
                                "Distinct 1-minute rollup rows folded (each also updates its hour and day rows)");
  rollup_fold_seconds_ = NewHistogram(r, "tokenmeter_processor_rollup_fold_seconds", "Time to fold the rollup journal once",
                                   {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5});
  rollup_pending_ = NewGauge(r, "tokenmeter_processor_rollup_pending_rows",
                          "Distinct 1-minute rollup rows published and not yet folded");
  outbox_pending_ = NewGauge(r, "tokenmeter_outbox_pending_deliveries",
                          "Alert deliveries waiting in the outbox (all sinks)");
  outbox_dead_ = NewGauge(r, "tokenmeter_alerts_dead",
                       "Alert deliveries that exhausted their retries (replayable)");
  outbox_oldest_age_ = NewGauge(r, "tokenmeter_outbox_oldest_pending_age_seconds",
                             "Age of the oldest pending alert delivery; 0 when none");
}

void ProcessorProbe::RollupFold(bool ok, size_t rows, std::chrono::steady_clock::duration took) {
  if (!ok) {
    rollup_fold_failures_->Increment();
    return;
  }
  rollup_folds_->Increment();
  rollup_folded_rows_->Increment(static_cast<double>(rows));
  rollup_fold_seconds_->Observe(std::chrono::duration<double>(took).count());
}

void ProcessorProbe::OutboxDepth(size_t pending, size_t dead, double oldest_age_seconds) {
  outbox_pending_->Set(static_cast<double>(pending));
  outbox_dead_->Set(static_cast<double>(dead));
  outbox_oldest_age_->Set(oldest_age_seconds);
}

void ProcessorProbe::Lag(const std::map<int, int64_t>& lag) {
  for (auto& [p, g] : lag_by_partition_) {
    if (!lag.contains(p)) g->Set(0);  // no longer owned here
  }
  for (const auto& [p, n] : lag) {
    auto it = lag_by_partition_.find(p);
    if (it == lag_by_partition_.end()) {
      it = lag_by_partition_.emplace(p, &lag_->Add({{"partition", std::to_string(p)}})).first;
    }
    it->second->Set(static_cast<double>(n));
  }
}

void ProcessorProbe::State(uint64_t background_errors, uint64_t live_bytes,
                           const Status& write_failure) {
  background_errors_->Set(static_cast<double>(background_errors));
  live_bytes_->Set(static_cast<double>(live_bytes));
  writes_stopped_->Set(write_failure.ok() ? 0 : 1);
  disk_full_->Set(write_failure.code() == Code::kNoSpace ? 1 : 0);
}

void ProcessorProbe::DedupIndexSize(size_t entries, size_t bytes) {
  dedup_index_entries_->Set(static_cast<double>(entries));
  dedup_index_bytes_->Set(static_cast<double>(bytes));
}

void ProcessorProbe::Expired(uint64_t dedup_rows, uint64_t event_rows, uint64_t rollup_rows) {
  expired_dedup_->Increment(static_cast<double>(dedup_rows - expired_dedup_seen_));
  expired_events_->Increment(static_cast<double>(event_rows - expired_events_seen_));
  expired_rollups_->Increment(static_cast<double>(rollup_rows - expired_rollups_seen_));
  expired_dedup_seen_ = dedup_rows;
  expired_events_seen_ = event_rows;
  expired_rollups_seen_ = rollup_rows;
}

void ProcessorProbe::BatchApplied(const BatchStats& s, std::chrono::steady_clock::duration took) {
  consumed_->Increment(static_cast<double>(s.consumed));
  counted_->Increment(static_cast<double>(s.counted));
  duplicates_->Increment(static_cast<double>(s.duplicates));
  conflicts_->Increment(static_cast<double>(s.conflicts));
  for (size_t i = 0; i < dead_lettered_.size(); ++i) {
    dead_lettered_[i]->Increment(static_cast<double>(s.dead_by_reason[i]));
  }
  unpriced_->Increment(static_cast<double>(s.unpriced));
  redelivered_->Increment(static_cast<double>(s.redelivered));
  for (size_t i = 0; i < alerts_decided_.size(); ++i) {
    alerts_decided_[i]->Increment(static_cast<double>(s.alerts_by_type[i]));
  }
  if (s.consumed || s.redelivered) batch_seconds_->Observe(std::chrono::duration<double>(took).count());
}

void ProcessorProbe::Partitions(size_t assigned, size_t history_lost) {
  assigned_->Set(static_cast<double>(assigned));
  history_lost_->Set(static_cast<double>(history_lost));
}

}  // namespace tokenmeter
