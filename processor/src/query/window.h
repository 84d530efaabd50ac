// The window every read view and export takes from its query parameters: the time range
// (range, or from/to) and the granularity it is read at, the data modes, the scope
// (environment, project), at most one drill-down attribute, limit and sort; and what
// retention still holds of it. Pure functions; any thread.
#ifndef TOKENMETER_PROCESSOR_QUERY_WINDOW_H_
#define TOKENMETER_PROCESSOR_QUERY_WINDOW_H_

#include <optional>
#include <string>
#include <vector>

#include "aggregate/rollup.h"
#include "request_params.h"
#include "tokenmeter/base/clock.h"
#include "tokenmeter/model/usage_event.h"
#include "tokenmeter/processor/retention_config.h"

namespace tokenmeter {

struct Window {
  TimePoint from, to;  // [from, to)
  Granularity gran;
  std::vector<DataMode> modes;
  // The scope every view is narrowed to: one environment, one project ("" for events
  // without one, asked for as "unknown"); all when unset.
  std::optional<std::string> environment, project;
  // The attribute the views are narrowed to, as its dimension's rows and value (a pair
  // dimension's "feature \0 second" for a feature with a prompt version or model); kTotal
  // when none.
  Dimension focus = Dimension::kTotal;
  std::string focus_value;
  size_t limit = 10;
  std::string sort = "cost";
  // The first bucket the granularity's retention surely still holds, where the rollups
  // are read from: the first bucket of the range, or later when the range reaches past
  // retention (then `truncated`).
  TimePoint available_from, scan_from;
  bool truncated = false;
};

// Narrows the window to what retention keeps at its granularity (sets available_from,
// scan_from, truncated).
void ApplyRetention(Window& w, TimePoint now, const RetentionConfig& retention);
// Fills `w` from the query parameters, or returns the reason they are unusable.
std::string ParseWindow(const Params& p, TimePoint now, Window& w);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_QUERY_WINDOW_H_
