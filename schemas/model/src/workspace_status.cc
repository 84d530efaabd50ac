#include "tokenmeter/model/workspace_status.h"

#include <rapidjson/document.h>

#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {

std::string EncodeWorkspaceStatus(const WorkspaceStatus& s) {
  auto b = [](bool v) { return v ? "true" : "false"; };
  std::string out = std::string("{\"planLimitReached\":") + b(s.plan_limit_reached) + ",\"pausedUntil\":";
  out += s.plan_limit_reached ? "\"" + FormatRfc3339(s.paused_until) + "\"" : std::string("null");
  out += std::string(",\"budgetWarning\":") + b(s.budget_warning) + ",\"budgetExceeded\":" +
         b(s.budget_exceeded) + "}";
  return out;
}

std::optional<WorkspaceStatus> DecodeWorkspaceStatus(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  WorkspaceStatus s;
  auto flag = [&](const char* k, bool& out) {
    auto it = d.FindMember(k);
    if (it == d.MemberEnd() || !it->value.IsBool()) return false;
    out = it->value.GetBool();
    return true;
  };
  if (!flag("planLimitReached", s.plan_limit_reached) || !flag("budgetWarning", s.budget_warning) ||
      !flag("budgetExceeded", s.budget_exceeded)) {
    return std::nullopt;
  }
  if (s.plan_limit_reached) {
    auto it = d.FindMember("pausedUntil");
    if (it == d.MemberEnd() || !it->value.IsString()) return std::nullopt;
    std::optional<TimePoint> t = ParseRfc3339(it->value.GetString());
    if (!t) return std::nullopt;
    s.paused_until = *t;
  }
  return s;
}

}  // namespace tokenmeter
