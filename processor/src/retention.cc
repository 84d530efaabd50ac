#include "retention.h"

#include <algorithm>
#include <string>

#include "aggregate/rollup.h"
#include "dedup/dedup_record.h"
#include "events/stored_event.h"

namespace tokenmeter {

Status RetentionConfig::Validate() const {
  if (dedup_days < 1 || dedup_days > 3650) return InvalidArgument("retention.dedup_days must be in [1, 3650]");
  if (events_days < 1 || events_days > 3650) return InvalidArgument("retention.events_days must be in [1, 3650]");
  for (auto [name, days] : {std::pair{"minute_rollup_days", minute_rollup_days}, {"hour_rollup_days", hour_rollup_days},
                            {"day_rollup_days", day_rollup_days}}) {
    if (days < 1 || days > 3650) return InvalidArgument(std::string("retention.") + name + " must be in [1, 3650]");
  }
  for (auto [name, days] : {std::pair{"log_days", log_days}, {"dlq_days", dlq_days}}) {
    if (!(days > 0 && days <= 3650)) {
      return InvalidArgument(std::string("retention.") + name + " must be more than 0 and at most 3650");
    }
  }
  if (minute_rollup_days > hour_rollup_days || hour_rollup_days > day_rollup_days) {
    return InvalidArgument(
        "retention: need minute_rollup_days <= hour_rollup_days <= day_rollup_days (a coarser row covers what "
        "a finer one no longer does)");
  }
  return Status::Ok();
}

void DedupHorizon::Update(TimePoint now, const std::set<int>& assigned, const std::map<int, int64_t>& lag,
                          const std::function<std::optional<TimePoint>(int)>& newest) {
  TimePoint h = now;
  for (int p : assigned) {
    auto l = lag.find(p);
    if (l != lag.end() && l->second == 0) continue;  // caught up: its next copies arrive now
    std::optional<TimePoint> n = newest(p);
    if (!n) {
      ms_.store(kUnknown);
      return;
    }
    h = std::min(h, *n);
  }
  ms_.store(h.time_since_epoch().count());
}

std::optional<int64_t> DedupHorizon::Get() const {
  int64_t v = ms_.load();
  if (v == kUnknown) return std::nullopt;
  return v;
}

StateOptions ProcessorStateOptions(const RetentionConfig* retention_config, const Clock* clock,
                                   const DedupHorizon* horizon) {
  StateOptions o;
  o.clock = clock;
  o.merge_operators[Family::kRollups] = RollupMergeOperator();
  if (retention_config == nullptr) return o;
  const RetentionConfig& retention = *retention_config;
  o.expiry[Family::kDedup] = {
      retention.dedup_window(),
      [](std::string_view, std::string_view value) { return DedupRecord::FirstSeenMs(value); },
      {}};
  if (horizon != nullptr) o.expiry[Family::kDedup].now_ms = [horizon] { return horizon->Get(); };
  o.expiry[Family::kEvents] = {retention.events_window(),
                               [](std::string_view key, std::string_view) { return EventKeyTime(key); }, {}};
  // A rollup row's "time" is the instant it expires (its bucket's end plus its
  // granularity's window), so the family's window is 0.
  o.expiry[Family::kRollups] = {
      std::chrono::milliseconds(0),
      [retention](std::string_view key, std::string_view) -> std::optional<int64_t> {
        std::optional<RollupBucket> b = RollupBucketOf(key);
        if (!b) return std::nullopt;
        return b->start_ms + BucketSpanMs(b->granularity) +
               retention.rollup_window(static_cast<char>(b->granularity)).count();
      },
      {}};
  return o;
}

}  // namespace tokenmeter
