#include "batch_rollups.h"

namespace tokenmeter {

void BatchRollups::AddRow(Dimension d, std::string_view value, const RollupCounters& c) {
  key_.resize(value_at_);
  key_[dimension_at_] = static_cast<char>(d);
  key_.append(value);
  auto it = minutes_.find(std::string_view(key_));
  if (it == minutes_.end()) it = minutes_.emplace(key_, RollupCounters{}).first;
  it->second.Add(c);
}

void BatchRollups::Add(const UsageEvent& e, const RollupCounters& c, bool duplicate_only) {
  // An event's rows differ only in the dimension byte and the value at the end: the key
  // is built once and each row rewrites those two parts.
  key_.clear();
  AppendRollupKey(key_, e.workspace, e.data_mode, Granularity::kMinute, Dimension::kTotal,
                  BucketStart(e.occurred_at, Granularity::kMinute), e.environment, "");
  value_at_ = key_.size();
  dimension_at_ = RollupDimensionAt(key_);
  AddRow(Dimension::kTotal, "", c);
  AddRow(Dimension::kEndpointTag,
         e.endpoint_tag.empty() ? std::string_view("unknown") : e.endpoint_tag, c);
  if (duplicate_only) return;
  AddRow(Dimension::kModel, e.model, c);
  AddRow(Dimension::kProvider, e.provider, c);
  AddRow(Dimension::kStatus, e.status ? CallStatusName(*e.status) : "unknown", c);
  if (!e.prompt_version.empty()) AddRow(Dimension::kPromptVersion, e.prompt_version, c);
  if (!e.project.empty()) AddRow(Dimension::kProject, e.project, c);
  if (!e.user_id.empty()) AddRow(Dimension::kUser, e.user_id, c);
  if (!e.tenant_id.empty()) AddRow(Dimension::kTenant, e.tenant_id, c);
}

void BatchRollups::Remove(const UsageEvent& e, const RollupCounters& c) {
  for (size_t i = 0; i < kRollupFields; ++i) negated_.v[i] = -c.v[i];
  negated_.latency.buckets.assign(c.latency.buckets.begin(), c.latency.buckets.end());
  for (auto& b : negated_.latency.buckets) b.second = -b.second;
  Add(e, negated_, /*duplicate_only=*/false);
}

namespace {

bool Counted(const RollupCounters& c) {
  if (!c.latency.buckets.empty()) return true;
  for (int64_t x : c.v) {
    if (x != 0) return true;
  }
  return false;
}

}  // namespace

void BatchRollups::Absorb(const BatchRollups& o) {
  for (const auto& [key, counters] : o.minutes_) {
    if (!Counted(counters)) continue;
    auto it = minutes_.find(std::string_view(key));
    if (it == minutes_.end()) {
      minutes_.emplace(key, counters);
    } else {
      it->second.Add(counters);
    }
  }
}

std::map<std::string, RollupCounters> BatchRollups::Finish() const {
  // A row all of whose events were taken back (Remove), or left from an earlier batch,
  // counts nothing: not written.
  std::map<std::string, RollupCounters> out;
  for (const auto& [key, counters] : minutes_) {
    if (Counted(counters)) out.emplace(key, counters);
  }
  return out;
}

void BatchRollups::Reset() {
  for (auto it = minutes_.begin(); it != minutes_.end();) {
    if (!Counted(it->second)) {
      it = minutes_.erase(it);
      continue;
    }
    it->second.v = {};
    it->second.latency.buckets.clear();
    ++it;
  }
}

}  // namespace tokenmeter
