#include "window.h"

#include <map>

#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter {

// Narrows the window to what retention keeps at its granularity: a row is kept its
// granularity's days after its bucket ends, so buckets from the one holding now - days
// are all there; older ones may be gone, and are not read (the answer says so).
void ApplyRetention(Window& w, TimePoint now, const RetentionConfig& retention) {
  w.available_from = BucketStart(now - retention.rollup_window(static_cast<char>(w.gran)), w.gran);
  w.scan_from = BucketStart(w.from, w.gran);
  if (w.scan_from < w.available_from) {
    w.truncated = true;
    w.scan_from = w.available_from;
  }
}

namespace {

std::optional<Granularity> ParseGranularity(const std::string& s) {
  if (s == "minute") return Granularity::kMinute;
  if (s == "hour") return Granularity::kHour;
  if (s == "day") return Granularity::kDay;
  return std::nullopt;
}

}  // namespace

std::string ParseWindow(const Params& p, TimePoint now, Window& w) {
  auto get = [&](const char* k) { auto it = p.find(k); return it == p.end() ? std::string() : it->second; };
  std::string from = get("from"), to = get("to"), range = get("range");
  if (!from.empty() || !to.empty()) {
    auto f = ParseRfc3339(from), t = to.empty() ? std::optional<TimePoint>(now) : ParseRfc3339(to);
    if (!f || !t) return "from and to must be RFC 3339 timestamps";
    if (*f >= *t) return "from must be before to";
    w.from = *f;
    w.to = *t;
  } else {
    static const std::map<std::string, std::chrono::milliseconds> kRanges = {
        {"1h", std::chrono::hours(1)}, {"6h", std::chrono::hours(6)}, {"24h", std::chrono::hours(24)},
        {"7d", std::chrono::hours(24 * 7)}, {"30d", std::chrono::hours(24 * 30)}};
    auto it = kRanges.find(range.empty() ? "24h" : range);
    if (it == kRanges.end()) return "range must be 1h, 6h, 24h, 7d or 30d (or give from/to)";
    w.to = now + std::chrono::milliseconds(1);
    w.from = w.to - it->second;
  }
  auto span = w.to - w.from;
  w.gran = span <= std::chrono::hours(6) ? Granularity::kMinute
           : span <= std::chrono::hours(24 * 7) ? Granularity::kHour
                                                : Granularity::kDay;
  if (std::string g = get("granularity"); !g.empty()) {
    auto parsed = ParseGranularity(g);
    if (!parsed) return "granularity must be minute, hour or day";
    w.gran = *parsed;
  }
  std::string mode = get("dataMode");
  if (mode.empty() || mode == "real") w.modes = {DataMode::kReal};
  else if (mode == "test") w.modes = {DataMode::kTest};
  else if (mode == "demo") w.modes = {DataMode::kDemo};
  else if (mode == "all") w.modes = {DataMode::kReal, DataMode::kTest, DataMode::kDemo};
  else return "dataMode must be real, test, demo or all";
  if (std::string env = get("environment"); !env.empty()) w.environment = env;
  if (std::string project = get("project"); !project.empty()) w.project = project == "unknown" ? "" : project;
  // The drill-down filters, each an attribute with rows of its own; "unknown" is the group
  // of events that do not give it (stored as ""). Two together only as a pair with rows of
  // its own: a feature with one of its prompt versions or models.
  static const std::pair<const char*, Dimension> kFocus[] = {
      {"feature", Dimension::kEndpointTag}, {"promptVersion", Dimension::kPromptVersion},
      {"model", Dimension::kModel},         {"provider", Dimension::kProvider},
      {"user", Dimension::kUser},           {"tenant", Dimension::kTenant}};
  std::vector<std::pair<Dimension, std::string>> given;
  for (const auto& [name, dim] : kFocus) {
    std::string v = get(name);
    if (v.empty()) continue;
    const bool stored_empty = v == "unknown" && (dim == Dimension::kUser || dim == Dimension::kTenant);
    given.emplace_back(dim, stored_empty ? "" : v);
  }
  if (given.size() == 1) {
    w.focus = given[0].first;
    w.focus_value = given[0].second;
  } else if (given.size() == 2 && given[0].first == Dimension::kEndpointTag &&
             (given[1].first == Dimension::kPromptVersion || given[1].first == Dimension::kModel)) {
    w.focus = given[1].first == Dimension::kPromptVersion ? Dimension::kFeaturePrompt : Dimension::kFeatureModel;
    w.focus_value = given[0].second + '\0' + given[1].second;
  } else if (given.size() > 1) {
    return "give at most one of feature, promptVersion, model, provider, user and tenant (or feature with "
           "promptVersion or model)";
  }
  if (std::string l = get("limit"); !l.empty()) {
    try {
      long long n = std::stoll(l);
      if (n < 1 || n > 1000) throw std::out_of_range("limit");
      w.limit = static_cast<size_t>(n);
    } catch (const std::exception&) {
      return "limit must be an integer in [1, 1000]";
    }
  }
  if (std::string s = get("sort"); !s.empty()) {
    if (s != "cost" && s != "requests" && s != "tokens") return "sort must be cost, requests or tokens";
    w.sort = s;
  }
  return "";
}

}  // namespace tokenmeter
