#include "batch_rollups.h"

#include "state/fixed_codec.h"

namespace tokenmeter {

void BatchRollups::AddRow(const UsageEvent& e, Dimension d, std::string_view value, const RollupCounters& c) {
  key_.clear();
  AppendRollupKey(key_, e.workspace, e.data_mode, Granularity::kMinute, d,
                  BucketStart(e.occurred_at, Granularity::kMinute), e.environment, value);
  auto it = minutes_.find(std::string_view(key_));
  if (it == minutes_.end()) it = minutes_.emplace(key_, RollupCounters{}).first;
  it->second.Add(c);
}

void BatchRollups::Add(const UsageEvent& e, const RollupCounters& c, bool duplicate_only) {
  AddRow(e, Dimension::kTotal, "", c);
  AddRow(e, Dimension::kEndpointTag, e.endpoint_tag.empty() ? std::string_view("unknown") : e.endpoint_tag, c);
  if (duplicate_only) return;
  AddRow(e, Dimension::kModel, e.model, c);
  AddRow(e, Dimension::kProvider, e.provider, c);
  AddRow(e, Dimension::kStatus, e.status ? CallStatusName(*e.status) : "unknown", c);
  if (!e.prompt_version.empty()) AddRow(e, Dimension::kPromptVersion, e.prompt_version, c);
  if (!e.project.empty()) AddRow(e, Dimension::kProject, e.project, c);
  if (!e.user_id.empty()) AddRow(e, Dimension::kUser, e.user_id, c);
  if (!e.tenant_id.empty()) AddRow(e, Dimension::kTenant, e.tenant_id, c);
}

std::map<std::string, RollupCounters> BatchRollups::Finish() {
  std::map<std::string, RollupCounters> out;
  for (auto& [key, c] : minutes_) {
    // The hour and day rows differ from the minute row only in the granularity byte and
    // the bucket (see RollupKey): workspace \0 mode \0 gran \0 dim \0 bucket...
    size_t gran_at = key.find('\0') + 3;
    uint64_t minute = GetBigEndian(key, gran_at + 4, 8);
    for (Granularity g : {Granularity::kHour, Granularity::kDay}) {
      std::string k = key;
      k[gran_at] = static_cast<char>(g);
      TimePoint start = BucketStart(TimePoint(std::chrono::milliseconds(static_cast<int64_t>(minute))), g);
      std::string bucket;
      AppendBigEndian(bucket, static_cast<uint64_t>(start.time_since_epoch().count()));
      k.replace(gran_at + 4, 8, bucket);
      out[std::move(k)].Add(c);
    }
    out.emplace(key, std::move(c));
  }
  minutes_.clear();
  return out;
}

}  // namespace tokenmeter
