#include "alert_store.h"

#include <algorithm>
#include <tuple>

#include "state/fixed_codec.h"

namespace tokenmeter {
namespace {

std::string LogPrefix(std::string_view workspace) {
  std::string k = "L";
  k.append(workspace);
  k.push_back('\0');
  return k;
}

std::string LogKey(std::string_view workspace, TimePoint at, std::string_view id) {
  std::string k = LogPrefix(workspace);
  AppendBigEndian(k, static_cast<uint64_t>(at.time_since_epoch().count()));
  k.append(id);
  return k;
}

std::string IndexKey(std::string_view id) { return "I" + std::string(id); }

std::string DeliveredKey(std::string_view id, std::string_view sink) {
  std::string k = "D" + std::string(id);
  k.push_back('\0');
  k.append(sink);
  return k;
}

std::string OutboxKey(std::string_view sink, std::string_view id) {
  std::string k(sink);
  k.push_back('\0');
  k.append(id);
  return k;
}

std::vector<std::string> SplitCsv(std::string_view csv) {
  std::vector<std::string> out;
  while (!csv.empty()) {
    size_t comma = csv.find(',');
    out.emplace_back(csv.substr(0, comma));
    if (comma == std::string_view::npos) break;
    csv.remove_prefix(comma + 1);
  }
  return out;
}

int64_t Ms(TimePoint t) { return t.time_since_epoch().count(); }

}  // namespace

Result<bool> AlertStore::Decided(const StateStore& store, std::string_view id) {
  Result<std::optional<std::string>> log_key = store.Get(Family::kAlerts, IndexKey(id));
  if (!log_key.ok()) return log_key.status();
  return log_key->has_value();
}

void AlertStore::Emit(StateStore::Batch& batch, const Alert& alert, const std::vector<std::string>& sinks,
                      TimePoint now, int64_t seq) {
  std::string json = EncodeAlertJson(alert);
  std::string csv;
  for (const std::string& s : sinks) csv += (csv.empty() ? "" : ",") + s;
  std::string log_key = LogKey(alert.workspace, alert.at, alert.id);
  batch.Put(Family::kAlerts, log_key, json + "\n" + csv);
  batch.Put(Family::kAlerts, IndexKey(alert.id), log_key);
  for (const std::string& sink : sinks) {
    Delivery d;
    d.sink = sink;
    d.alert_id = alert.id;
    d.created_ms = Ms(now);
    d.queued_ms = Ms(now);
    d.decision_seq = seq;
    d.next_attempt_ms = Ms(now);
    d.alert_json = json;
    batch.Put(Family::kOutbox, OutboxKey(sink, alert.id), d.Encode());
  }
}

Result<std::vector<Delivery>> AlertStore::Due(std::string_view sink, TimePoint now, size_t limit) {
  std::vector<Delivery> due;
  std::string begin = OutboxKey(sink, ""), end(sink);
  end.push_back('\1');
  Status s = store_.Scan(Family::kOutbox, begin, end, [&](std::string_view k, std::string_view v) {
    std::optional<Delivery> d = Delivery::Decode(sink, k.substr(begin.size()), v);
    if (d && d->state == DeliveryState::kPending && d->next_attempt_ms <= Ms(now)) due.push_back(std::move(*d));
    return true;
  });
  if (!s.ok()) return s;
  std::stable_sort(due.begin(), due.end(),
                   [](const Delivery& a, const Delivery& b) {
                     return std::tie(a.created_ms, a.decision_seq) < std::tie(b.created_ms, b.decision_seq);
                   });
  if (due.size() > limit) due.resize(limit);
  return due;
}

Status AlertStore::Record(const Delivery& d) {
  StateStore::Batch batch = store_.NewBatch();
  if (d.state == DeliveryState::kDelivered) {
    Delivery done = d;
    done.alert_json.clear();
    batch.Delete(Family::kOutbox, OutboxKey(d.sink, d.alert_id));
    batch.Put(Family::kAlerts, DeliveredKey(d.alert_id, d.sink), done.Encode());
  } else {
    batch.Put(Family::kOutbox, OutboxKey(d.sink, d.alert_id), d.Encode());
  }
  return store_.Commit(batch);
}

Result<OutboxDepth> AlertStore::Depth() const {
  OutboxDepth depth;
  Status s = store_.Scan(Family::kOutbox, "", "\xff\xff", [&](std::string_view k, std::string_view v) {
    size_t nul = k.find('\0');
    if (nul == std::string_view::npos) return true;
    std::optional<Delivery> d = Delivery::Decode(k.substr(0, nul), k.substr(nul + 1), v);
    if (!d) return true;
    if (d->state == DeliveryState::kDead) {
      ++depth.dead;
    } else if (d->state == DeliveryState::kPending) {
      ++depth.pending;
      if (depth.oldest_pending_queued_ms == 0 || d->queued_ms < depth.oldest_pending_queued_ms) {
        depth.oldest_pending_queued_ms = d->queued_ms;
      }
    }
    return true;
  });
  if (!s.ok()) return s;
  return depth;
}

Result<std::vector<Delivery>> AlertStore::DeliveriesOf(std::string_view id, std::string_view sinks_csv) const {
  std::vector<Delivery> out;
  for (const std::string& sink : SplitCsv(sinks_csv)) {
    Result<std::optional<std::string>> queued = store_.Get(Family::kOutbox, OutboxKey(sink, id));
    if (!queued.ok()) return queued.status();
    std::optional<Delivery> d;
    if (queued->has_value()) {
      d = Delivery::Decode(sink, id, **queued);
    } else {
      Result<std::optional<std::string>> done = store_.Get(Family::kAlerts, DeliveredKey(id, sink));
      if (!done.ok()) return done.status();
      if (done->has_value()) d = Delivery::Decode(sink, id, **done);
    }
    if (!d) continue;
    d->alert_json.clear();
    out.push_back(std::move(*d));
  }
  return out;
}

Result<std::vector<AlertStore::Listed>> AlertStore::List(std::string_view workspace, TimePoint from,
                                                        TimePoint to, size_t limit) const {
  std::vector<Listed> out;
  std::string prefix = LogPrefix(workspace);
  std::string begin = prefix, end = prefix;
  AppendBigEndian(begin, static_cast<uint64_t>(Ms(from)));
  AppendBigEndian(end, static_cast<uint64_t>(Ms(to)));
  std::vector<std::pair<std::string, std::string>> rows;
  Status s = store_.Scan(Family::kAlerts, begin, end, [&](std::string_view k, std::string_view v) {
    rows.emplace_back(k, v);
    return true;
  });
  if (!s.ok()) return s;
  std::reverse(rows.begin(), rows.end());
  if (rows.size() > limit) rows.resize(limit);
  for (const auto& [k, v] : rows) {
    size_t nl = v.find('\n');
    Listed l;
    l.alert_json = v.substr(0, nl);
    std::string_view id = std::string_view(k).substr(prefix.size() + 8);
    Result<std::vector<Delivery>> d = DeliveriesOf(id, nl == std::string::npos ? "" : std::string_view(v).substr(nl + 1));
    if (!d.ok()) return d.status();
    l.deliveries = std::move(*d);
    out.push_back(std::move(l));
  }
  return out;
}

Result<std::vector<std::string>> AlertStore::Replay(std::string_view workspace, std::string_view id,
                                                    TimePoint now) {
  Result<std::optional<std::string>> log_key = store_.Get(Family::kAlerts, IndexKey(id));
  if (!log_key.ok()) return log_key.status();
  if (!log_key->has_value() || (*log_key)->rfind(LogPrefix(workspace), 0) != 0) {
    return NotFound("no alert with this id in this workspace");
  }
  Result<std::optional<std::string>> row = store_.Get(Family::kAlerts, **log_key);
  if (!row.ok()) return row.status();
  if (!row->has_value()) return NotFound("no alert with this id in this workspace");
  const std::string& v = **row;
  size_t nl = v.find('\n');
  std::string json = v.substr(0, nl);
  Result<std::vector<Delivery>> deliveries = DeliveriesOf(id, nl == std::string::npos ? "" : std::string_view(v).substr(nl + 1));
  if (!deliveries.ok()) return deliveries.status();
  StateStore::Batch batch = store_.NewBatch();
  std::vector<std::string> queued;
  for (const Delivery& d : *deliveries) {
    if (d.state == DeliveryState::kPending) continue;  // already queued
    Delivery again;
    again.sink = d.sink;
    again.alert_id = d.alert_id;
    again.created_ms = d.created_ms;
    again.decision_seq = d.decision_seq;
    again.queued_ms = Ms(now);
    again.next_attempt_ms = Ms(now);
    again.alert_json = json;
    batch.Delete(Family::kAlerts, DeliveredKey(id, d.sink));
    batch.Put(Family::kOutbox, OutboxKey(d.sink, id), again.Encode());
    queued.push_back(d.sink);
  }
  RETURN_IF_ERROR(store_.Commit(batch));
  return queued;
}

}  // namespace tokenmeter
