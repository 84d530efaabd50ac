// Range reads of rollup rows: every row of (workspace, data mode, granularity,
// dimension) whose bucket starts in [from, to), in key order, from the rollups family
// (folded rows; RollupJournal::Scan adds the deltas not yet folded) and from a batch's
// pre-aggregated deltas (same key layout, see RollupKey). Any thread.
#ifndef TOKENMETER_PROCESSOR_AGGREGATE_ROLLUP_SCAN_H_
#define TOKENMETER_PROCESSOR_AGGREGATE_ROLLUP_SCAN_H_

#include <algorithm>
#include <string>
#include <string_view>

#include "rollup.h"
#include "state/fixed_codec.h"
#include "state/state_store.h"

namespace tokenmeter {

struct RollupRange {
  std::string prefix;      // ws \0 mode \0 gran \0 dim \0
  std::string begin, end;  // prefix + bucket bytes of from / to
};

inline RollupRange MakeRollupRange(std::string_view ws, DataMode mode, Granularity g, Dimension d,
                                   TimePoint from, TimePoint to) {
  RollupRange r;
  r.prefix = RollupKey(ws, mode, g, d, TimePoint{}, {}, "");
  r.prefix.resize(r.prefix.size() - 10);  // drop the 8-byte bucket and the empty scope's two \0
  r.begin = RollupKey(ws, mode, g, d, from, {}, "").substr(0, r.prefix.size() + 8);
  r.end = RollupKey(ws, mode, g, d, to, {}, "").substr(0, r.prefix.size() + 8);
  return r;
}

// Splits a rollup key after `prefix_size` bytes into bucket, scope and value.
inline void SplitRollupKey(std::string_view key, size_t prefix_size, TimePoint& bucket, RollupScope& scope,
                           std::string_view& value) {
  std::string_view rest = key.substr(prefix_size);
  uint64_t ms = GetBigEndian(rest, 0);
  rest.remove_prefix(8);
  size_t nul = rest.find('\0');
  scope.environment = rest.substr(0, nul);
  rest.remove_prefix(nul + 1);
  nul = rest.find('\0');
  scope.project = rest.substr(0, nul);
  value = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  bucket = TimePoint(std::chrono::milliseconds(ms));
}

// Which values a read wants: all (empty `text`), those starting with `text`, or (`exact`)
// `text` alone.
struct ValueFilter {
  std::string_view text;
  bool exact = false;
  bool Wants(std::string_view value) const {
    return exact ? value == text : value.substr(0, text.size()) == text;
  }
};

// fn(bucket, scope, value, counters) for each folded row in the range (as of `at`) whose
// value `want` wants. Within one bucket and scope the rows are in value order, so the
// wanted ones are one run: the scan seeks to it and, past it, to the next scope (a few
// seeks per bucket and scope instead of every value's row).
template <typename Fn>
Status ScanRollupRange(const StateStore& store, const RollupRange& r, Fn fn, const StateStore::Snapshot* at = nullptr,
                       ValueFilter want = {}) {
  if (want.text.empty() && !want.exact) {
    return store.Scan(
        Family::kRollups, r.begin, r.end,
        [&](std::string_view k, std::string_view v) {
          TimePoint bucket;
          RollupScope scope;
          std::string_view value;
          SplitRollupKey(k, r.prefix.size(), bucket, scope, value);
          fn(bucket, scope, value, RollupCounters::Decode(v));
          return true;
        },
        at);
  }
  return store.ScanSeeking(
      Family::kRollups, r.begin, r.end,
      [&](std::string_view k, std::string_view v, std::string& seek) {
        TimePoint bucket;
        RollupScope scope;
        std::string_view value;
        SplitRollupKey(k, r.prefix.size(), bucket, scope, value);
        const size_t value_at = k.size() - value.size();  // just after the project's \0
        if (want.Wants(value)) {
          fn(bucket, scope, value, RollupCounters::Decode(v));
          if (!want.exact) return true;
        } else if (value < want.text) {
          seek.assign(k.substr(0, value_at)).append(want.text);  // to the run
          return true;
        }
        // Past the run: the first key after every value of this scope (its \0 made \x01;
        // every text character is above \x01).
        seek.assign(k.substr(0, value_at - 1)).push_back('\x01');
        if (std::string_view(seek) <= k) seek.clear();  // not a key of this layout: read on
        return true;
      },
      at);
}

// The same for a batch's uncommitted deltas.
template <typename Fn>
void ScanRollupDeltas(const RollupDeltas& deltas, const RollupRange& r, Fn fn) {
  auto it = std::lower_bound(deltas.begin(), deltas.end(), std::string_view(r.begin),
                             [](const RollupDelta& d, std::string_view k) { return d.key < k; });
  for (; it != deltas.end() && it->key < std::string_view(r.end); ++it) {
    TimePoint bucket;
    RollupScope scope;
    std::string_view value;
    SplitRollupKey(it->key, r.prefix.size(), bucket, scope, value);
    fn(bucket, scope, value, *it->counters);
  }
}

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_AGGREGATE_ROLLUP_SCAN_H_
