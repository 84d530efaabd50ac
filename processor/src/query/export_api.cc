#include "export_api.h"

#include <algorithm>
#include <map>
#include <memory>

#include "dedup/dedup_record.h"
#include "events/stored_event.h"
#include "export_rows.h"
#include "state/state_store_scan.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/base/units.h"
#include "tokenmeter/http/json_error.h"

namespace tokenmeter {
namespace {

// The columns of a row, in order: CSV header names and JSON keys alike.
constexpr const char* kColumns[] = {
    "requestId",   "occurredAt",   "receivedAt",   "dataMode",         "environment",     "project",
    "feature",     "promptVersion", "userId",      "tenantId",         "provider",        "model",
    "status",      "latencyMs",    "inputTokens",  "outputTokens",     "cachedTokens",    "cacheWriteTokens",
    "reasoningTokens", "costUsd",  "costNanoUsd",  "costSource",       "catalogVersion",  "attempts"};
// format=focus: FinOps FOCUS 1.x columns that apply to a priced call (CSV), and x_ columns
// for what FOCUS has no column for. A call is charged in its minute.
constexpr const char* kFocusColumns[] = {
    "BilledCost",     "EffectiveCost",  "ListCost",      "BillingCurrency", "ChargeCategory",   "ChargeDescription",
    "ChargePeriodStart", "ChargePeriodEnd", "ConsumedQuantity", "ConsumedUnit", "ProviderName", "PublisherName",
    "ServiceName",    "SkuId",          "ResourceId",    "x_Feature",      "x_PromptVersion",  "x_Project",
    "x_Environment",  "x_User",         "x_Tenant",      "x_DataMode",     "x_CostSource",     "x_Attempts"};
constexpr size_t kRowsPerPiece = 500;

std::string PairValue(std::string_view first, std::string_view second) {
  return std::string(first) + '\0' + std::string(second);
}

// Whether an event is in the window: its time, data mode, scope and drill-down attribute.
bool InWindow(const UsageEvent& e, const Window& w) {
  if (e.occurred_at < w.from || e.occurred_at >= w.to) return false;
  if (std::find(w.modes.begin(), w.modes.end(), e.data_mode) == w.modes.end()) return false;
  if (w.environment && e.environment != *w.environment) return false;
  if (w.project && e.project != *w.project) return false;
  const std::string_view feature = e.endpoint_tag.empty() ? std::string_view("unknown") : e.endpoint_tag;
  switch (w.focus) {
    case Dimension::kEndpointTag: return feature == w.focus_value;
    case Dimension::kFeaturePrompt: return PairValue(feature, e.prompt_version) == w.focus_value;
    case Dimension::kFeatureModel: return PairValue(feature, e.model) == w.focus_value;
    case Dimension::kPromptVersion: return e.prompt_version == w.focus_value;
    case Dimension::kModel: return e.model == w.focus_value;
    case Dimension::kProvider: return e.provider == w.focus_value;
    case Dimension::kUser: return e.user_id == w.focus_value;
    case Dimension::kTenant: return e.tenant_id == w.focus_value;
    default: return true;
  }
}

std::vector<Cell> Cells(const StoredEvent& s, uint32_t attempts) {
  const UsageEvent& e = s.event;
  auto text = [](std::string_view v) { return Cell{Cell::kText, std::string(v)}; };
  auto number = [](int64_t v) { return Cell{Cell::kNumber, std::to_string(v)}; };
  const Cell none{Cell::kNull, ""};
  return {text(e.request_id),
          text(FormatRfc3339(e.occurred_at)),
          text(FormatRfc3339(e.received_at)),
          text(DataModeName(e.data_mode)),
          text(e.environment),
          e.project.empty() ? none : text(e.project),
          e.endpoint_tag.empty() ? none : text(e.endpoint_tag),
          e.prompt_version.empty() ? none : text(e.prompt_version),
          e.user_id.empty() ? none : text(e.user_id),
          e.tenant_id.empty() ? none : text(e.tenant_id),
          text(e.provider),
          text(e.model),
          e.status ? text(CallStatusName(*e.status)) : none,
          e.latency_ms ? number(*e.latency_ms) : none,
          number(static_cast<int64_t>(e.input_tokens)),
          number(static_cast<int64_t>(e.output_tokens)),
          number(static_cast<int64_t>(e.cached_tokens)),
          number(static_cast<int64_t>(e.cache_write_tokens + e.cache_write_1h_tokens)),
          number(static_cast<int64_t>(e.reasoning_tokens)),
          s.cost.total ? text(FormatUsd(*s.cost.total)) : none,
          s.cost.total ? number(s.cost.total->value) : none,
          text(CostSourceName(s.cost.source)),
          text(s.catalog_version),
          number(attempts)};
}

std::vector<Cell> FocusCells(const StoredEvent& s, uint32_t attempts) {
  const UsageEvent& e = s.event;
  auto text = [](std::string_view v) { return Cell{Cell::kText, std::string(v)}; };
  const Cell none{Cell::kNull, ""};
  const Cell cost = s.cost.total ? text(FormatUsd(*s.cost.total)) : none;
  const TimePoint minute = BucketStart(e.occurred_at, Granularity::kMinute);
  return {cost,
          cost,
          cost,
          text("USD"),
          text("Usage"),
          text(e.model + " tokens"),
          text(FormatRfc3339(minute)),
          text(FormatRfc3339(minute + std::chrono::minutes(1))),
          text(std::to_string(e.input_tokens + e.output_tokens)),
          text("Tokens"),
          text(e.provider),
          text(e.provider),
          text(e.model),
          text(e.model),
          text(e.request_id),
          e.endpoint_tag.empty() ? none : text(e.endpoint_tag),
          e.prompt_version.empty() ? none : text(e.prompt_version),
          e.project.empty() ? none : text(e.project),
          text(e.environment),
          e.user_id.empty() ? none : text(e.user_id),
          e.tenant_id.empty() ? none : text(e.tenant_id),
          text(DataModeName(e.data_mode)),
          text(CostSourceName(s.cost.source)),
          text(std::to_string(attempts))};
}

// What a stream keeps between its pieces: the snapshot it reads, where it stopped.
struct Cursor {
  Cursor(const StateStore& s, const DedupIndex& d, std::unique_ptr<StateStore::Snapshot> snapshot, std::string ws,
         Window window)
      : store(s), dedup(d), at(std::move(snapshot)), workspace(std::move(ws)), w(std::move(window)) {}
  const StateStore& store;
  const DedupIndex& dedup;
  std::unique_ptr<StateStore::Snapshot> at;
  std::string workspace;
  Window w;
  Format format = Format::kCsv;
  std::string head, tail;  // before the first row, after the last
  std::string next_key = std::string(1, '\0');  // the events family's keys start with \0
  bool started = false, first_row = true, done = false;

  // Appends up to kRowsPerPiece rows to `out`; false once the last piece is out.
  bool Next(std::string& out) {
    if (!started) {
      started = true;
      out += head;
    }
    size_t rows = 0;
    std::string last;
    Status scanned = store.Scan(
        Family::kEvents, next_key, std::string(1, '\x01'),
        [&](std::string_view k, std::string_view v) {
          last.assign(k);
          if (k.size() <= kEventKeyHeadBytes) return true;
          std::string_view ws = k.substr(kEventKeyHeadBytes);
          ws = ws.substr(0, ws.find('\0'));
          if (ws != workspace) return true;
          std::optional<StoredEvent> s = DecodeStoredEvent(v);
          if (!s || !InWindow(s->event, w)) return true;
          uint32_t attempts = 1;
          Result<DedupChoice> d = FindDedup(store, dedup, DedupKey(workspace, s->event.request_id));
          if (d.ok() && d->record &&
              std::string_view(d->record->event_key).substr(0, kEventKeyHeadBytes) == k.substr(0, kEventKeyHeadBytes)) {
            attempts = d->record->attempts;
          }
          AppendRow(out, format, kColumns, format == Format::kFocus ? FocusCells(*s, attempts) : Cells(*s, attempts),
                    first_row);
          first_row = false;
          return ++rows < kRowsPerPiece;
        },
        at.get(), /*bulk=*/true);
    // A failure mid-stream cannot change the status already sent: the body ends early,
    // without the JSON tail, so a reader sees it is cut short.
    if (!scanned.ok() || rows < kRowsPerPiece) {
      if (scanned.ok()) out += tail;
      return false;
    }
    next_key = last + std::string(1, '\0');  // the first key after the last one read
    return true;
  }
};

}  // namespace

HttpResponse ExportEvents(const StateStore& store, const DedupIndex& dedup, const KeyRecord& key, const Params& params,
                          const Window& w, TimePoint now, const RetentionConfig& retention) {
  auto it = params.find("format");
  const std::string name = it == params.end() || it->second.empty() ? "csv" : it->second;
  auto cursor = std::make_shared<Cursor>(store, dedup, store.TakeSnapshot(), key.workspace, w);
  static const std::map<std::string_view, Format> kFormats = {
      {"csv", Format::kCsv}, {"ndjson", Format::kNdjson}, {"json", Format::kJson}, {"focus", Format::kFocus}};
  auto format = kFormats.find(name);
  if (format == kFormats.end()) return JsonError(400, "bad_query", "format must be csv, ndjson, json or focus");
  cursor->format = format->second;
  std::string members = "\"workspace\":";
  AppendJsonString(members, key.workspace);
  members += ",\"from\":\"" + FormatRfc3339(w.from) + "\",\"to\":\"" + FormatRfc3339(w.to) + "\"";
  HttpResponse r;
  if (cursor->format == Format::kFocus) {
    FrameExport(cursor->format, kFocusColumns, "tokenmeter-events", members, "events", r, cursor->head, cursor->tail);
  } else {
    FrameExport(cursor->format, kColumns, "tokenmeter-events", members, "events", r, cursor->head, cursor->tail);
  }
  // Event rows are kept retention.events_days after they occurred.
  const TimePoint kept_from = now - retention.events_window();
  r.headers.emplace_back("X-Retention-Truncated", w.from < kept_from ? "true" : "false");
  r.headers.emplace_back("X-Retention-Available-From-Utc", FormatRfc3339(kept_from));
  r.stream = [cursor](std::string& piece) { return cursor->Next(piece); };
  return r;
}

}  // namespace tokenmeter
