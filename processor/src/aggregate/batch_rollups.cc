#include "batch_rollups.h"

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
  std::map<std::string, RollupCounters> out(std::make_move_iterator(minutes_.begin()),
                                            std::make_move_iterator(minutes_.end()));
  minutes_.clear();
  return out;
}

}  // namespace tokenmeter
