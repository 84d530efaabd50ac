#include "retention.h"

#include "dedup_record.h"
#include "pipeline.h"

namespace tokenmeter {

Status RetentionConfig::Validate() const {
  if (dedup_days < 1 || dedup_days > 3650) return InvalidArgument("retention.dedup_days must be in [1, 3650]");
  if (events_days < 1 || events_days > 3650) return InvalidArgument("retention.events_days must be in [1, 3650]");
  return Status::Ok();
}

StateOptions RetentionStateOptions(const RetentionConfig& retention, const Clock* clock) {
  StateOptions o;
  o.clock = clock;
  o.expiry[Family::kDedup] = {retention.dedup_window(),
                              [](std::string_view, std::string_view value) { return DedupRecord::FirstSeenMs(value); }};
  o.expiry[Family::kEvents] = {retention.events_window(),
                               [](std::string_view key, std::string_view) { return EventKeyTime(key); }};
  return o;
}

}  // namespace tokenmeter
