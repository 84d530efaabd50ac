// GET /v1/export?of=rollups: the rollup rows of a window, one row per bucket, data mode,
// scope and value of one dimension, streamed from one view of the state (the folded rows
// at a snapshot merged in key order with the deltas not yet folded in it).
#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include "aggregate/rollup_journal.h"
#include "aggregate/rollup_scan.h"
#include "export_api.h"
#include "export_rows.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/base/units.h"
#include "tokenmeter/http/json_error.h"

namespace tokenmeter {
namespace {

constexpr const char* kRollupColumns[] = {
    "bucketStart",     "bucketEnd",    "granularity",     "dataMode",       "environment",     "project",
    "dimension",       "value",        "requests",        "successes",      "errors",          "duplicates",
    "inputTokens",     "outputTokens", "cachedTokens",    "cacheWriteTokens", "reasoningTokens", "costUsd",
    "costNanoUsd",     "unpricedRequests", "latencyCount", "latencySumMs",  "p50LatencyMs",    "p95LatencyMs",
    "p99LatencyMs"};
constexpr size_t kRowsPerPiece = 500;

const std::map<std::string_view, Dimension, std::less<>>& Dimensions() {
  static const std::map<std::string_view, Dimension, std::less<>> kDimensions = {
      {"total", Dimension::kTotal},   {"feature", Dimension::kEndpointTag}, {"promptVersion", Dimension::kPromptVersion},
      {"model", Dimension::kModel},   {"provider", Dimension::kProvider},   {"user", Dimension::kUser},
      {"tenant", Dimension::kTenant}, {"status", Dimension::kStatus},       {"unpricedModel", Dimension::kUnpricedModel}};
  return kDimensions;
}

std::string_view GranularityName(Granularity g) {
  return g == Granularity::kMinute ? "minute" : g == Granularity::kHour ? "hour" : "day";
}

// One data mode's rows: the range, its view of the state, where the stream is in it.
struct ModeRows {
  DataMode mode;
  RollupRange range;
  std::unique_ptr<StateStore::Snapshot> at;
  std::map<std::string, RollupCounters, std::less<>> unfolded;
  std::map<std::string, RollupCounters, std::less<>>::const_iterator next_unfolded;
  std::string next_key;  // the first folded row not yet read
};

struct RollupCursor {
  RollupCursor(const StateStore& s, Window window) : store(s), w(std::move(window)) {}
  const StateStore& store;
  Window w;
  std::string dimension;  // its name in the rows
  Format format = Format::kCsv;
  std::string head, tail;
  std::vector<ModeRows> modes;
  size_t mode_at = 0;
  bool started = false, first_row = true;

  // The row of key `k` (of modes[mode_at]) with counters `c`, unless the window's scope or
  // attribute leaves it out or nothing is left in it (cleaned up).
  void Emit(std::string& out, std::string_view k, const RollupCounters& c) {
    const ModeRows& m = modes[mode_at];
    TimePoint bucket;
    RollupScope scope;
    std::string_view value;
    SplitRollupKey(k, m.range.prefix.size(), bucket, scope, value);
    if (w.environment && scope.environment != *w.environment) return;
    if (w.project && scope.project != *w.project) return;
    if (w.focus != Dimension::kTotal && value != w.focus_value) return;
    if (c.latency.buckets.empty() && std::all_of(c.v.begin(), c.v.end(), [](int64_t x) { return x == 0; })) return;
    auto text = [](std::string_view v) { return Cell{Cell::kText, std::string(v)}; };
    auto number = [](int64_t v) { return Cell{Cell::kNumber, std::to_string(v)}; };
    auto quantile = [&c](double q) {
      std::optional<uint64_t> ms = c.latency.Quantile(q);
      return ms ? Cell{Cell::kNumber, std::to_string(*ms)} : Cell{Cell::kNull, ""};
    };
    const Cell none{Cell::kNull, ""};
    const auto& v = c.v;
    AppendRow(out, format, kRollupColumns,
              {text(FormatRfc3339(bucket)), text(FormatRfc3339(bucket + std::chrono::milliseconds(BucketSpanMs(w.gran)))),
               text(GranularityName(w.gran)), text(DataModeName(m.mode)), text(scope.environment),
               scope.project.empty() ? none : text(scope.project), text(dimension), value.empty() ? none : text(value),
               number(v[kRequests]), number(v[kSuccesses]), number(v[kErrors]), number(v[kDuplicates]),
               number(v[kInputTokens]), number(v[kOutputTokens]), number(v[kCachedTokens]),
               number(v[kCacheWriteTokens]), number(v[kReasoningTokens]), text(FormatUsd(NanoUsd{v[kCostNano]})),
               number(v[kCostNano]), number(v[kUnpriced]), number(v[kLatencyCount]), number(v[kLatencySumMs]),
               quantile(0.5), quantile(0.95), quantile(0.99)},
              first_row);
    first_row = false;
  }

  // Appends the rows of up to kRowsPerPiece stored rows to `out`; false once the last
  // piece is out. A failure mid-stream ends the body without its tail (the status is sent).
  bool Next(std::string& out) {
    if (!started) {
      started = true;
      out += head;
    }
    size_t rows = 0;
    while (mode_at < modes.size()) {
      ModeRows& m = modes[mode_at];
      std::string last;
      Status scanned = store.Scan(
          Family::kRollups, m.next_key, m.range.end,
          [&](std::string_view k, std::string_view bytes) {
            for (; m.next_unfolded != m.unfolded.end() && m.next_unfolded->first < k; ++m.next_unfolded) {
              Emit(out, m.next_unfolded->first, m.next_unfolded->second);
            }
            RollupCounters c = RollupCounters::Decode(bytes);
            if (m.next_unfolded != m.unfolded.end() && m.next_unfolded->first == k) c.Add((m.next_unfolded++)->second);
            Emit(out, k, c);
            last.assign(k);
            return ++rows < kRowsPerPiece;
          },
          m.at.get(), /*bulk=*/true);
      if (!scanned.ok()) return false;
      if (rows == kRowsPerPiece) {
        m.next_key = last + std::string(1, '\0');  // the first key after the last one read
        return true;
      }
      for (; m.next_unfolded != m.unfolded.end(); ++m.next_unfolded) Emit(out, m.next_unfolded->first, m.next_unfolded->second);
      ++mode_at;
    }
    out += tail;
    return false;
  }
};

}  // namespace

HttpResponse ExportRollups(const StateStore& store, const RollupJournal& rollups, const KeyRecord& key,
                           const Params& params, const Window& w) {
  auto cursor = std::make_shared<RollupCursor>(store, w);
  auto it = params.find("format");
  const std::string name = it == params.end() || it->second.empty() ? "csv" : it->second;
  if (name == "csv") cursor->format = Format::kCsv;
  else if (name == "ndjson") cursor->format = Format::kNdjson;
  else if (name == "json") cursor->format = Format::kJson;
  else return JsonError(400, "bad_query", "format must be csv, ndjson or json (focus exports events only)");
  // The rows of one dimension: the one named, or the drill-down attribute's (only its value's rows).
  Dimension dim = w.focus;
  if (dim == Dimension::kFeaturePrompt || dim == Dimension::kFeatureModel) {
    return JsonError(400, "bad_query", "a rollup export takes one drill-down attribute (an event export takes two)");
  }
  it = params.find("dimension");
  if (it != params.end() && !it->second.empty()) {
    auto d = Dimensions().find(it->second);
    if (d == Dimensions().end()) {
      return JsonError(400, "bad_query",
                       "dimension must be total, feature, promptVersion, model, provider, user, tenant, status or "
                       "unpricedModel");
    }
    if (w.focus != Dimension::kTotal && d->second != w.focus) {
      return JsonError(400, "bad_query", "a drill-down attribute exports its own dimension's rows");
    }
    dim = d->second;
  }
  for (const auto& [n, d] : Dimensions()) {
    if (d == dim) cursor->dimension = n;
  }
  cursor->modes.resize(w.modes.size());  // not moved once its iterators are taken
  for (size_t i = 0; i < w.modes.size(); ++i) {
    ModeRows& m = cursor->modes[i];
    m.mode = w.modes[i];
    m.range = MakeRollupRange(key.workspace, m.mode, w.gran, dim, w.scan_from, w.to);
    Status s = rollups.Unfolded(m.range, m.at, m.unfolded);
    if (!s.ok()) return JsonError(503, "state_unavailable", s.message());
    m.next_unfolded = m.unfolded.begin();
    m.next_key = m.range.begin;
  }
  std::string members = "\"workspace\":";
  AppendJsonString(members, key.workspace);
  members += ",\"from\":\"" + FormatRfc3339(w.from) + "\",\"to\":\"" + FormatRfc3339(w.to) + "\",\"granularity\":\"" +
             std::string(GranularityName(w.gran)) + "\",\"dimension\":\"" + cursor->dimension + "\"";
  HttpResponse r;
  FrameExport(cursor->format, kRollupColumns, "tokenmeter-rollups", members, "rows", r, cursor->head, cursor->tail);
  // Rollup rows are kept their granularity's retention.*_rollup_days (ApplyRetention).
  r.headers.emplace_back("X-Retention-Truncated", w.truncated ? "true" : "false");
  r.headers.emplace_back("X-Retention-Available-From-Utc", FormatRfc3339(w.available_from));
  r.stream = [cursor](std::string& piece) { return cursor->Next(piece); };
  return r;
}

}  // namespace tokenmeter
