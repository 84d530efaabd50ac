#include "batch_rollups.h"

#include <algorithm>
#include <cstring>
#include <functional>

namespace tokenmeter {
namespace {

uint64_t HashKey(std::string_view key) { return std::hash<std::string_view>()(key); }

bool Counted(const RollupCounters& c) {
  if (!c.latency.buckets.empty()) return true;
  for (int64_t x : c.v) {
    if (x != 0) return true;
  }
  return false;
}

}  // namespace

RollupCounters& BatchRollups::RowFor(std::string_view key, uint64_t hash) {
  if (slots_.empty()) Rehash(1024);
  size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    uint32_t s = slots_[i];
    if (s == 0) {
      Row row{hash, static_cast<uint32_t>(keys_.size()), static_cast<uint32_t>(key.size()), {}};
      keys_.append(key);
      rows_.push_back(std::move(row));
      slots_[i] = static_cast<uint32_t>(rows_.size());
      if (rows_.size() * 2 > slots_.size()) Rehash(slots_.size() * 2);
      return rows_.back().counters;
    }
    Row& r = rows_[s - 1];
    if (r.hash == hash && KeyOf(r) == key) return r.counters;
  }
}

void BatchRollups::Rehash(size_t slots) {
  slots_.assign(slots, 0);
  size_t mask = slots - 1;
  for (size_t n = 0; n < rows_.size(); ++n) {
    size_t i = rows_[n].hash & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = static_cast<uint32_t>(n + 1);
  }
}

void BatchRollups::AddRow(Dimension d, std::string_view value, const RollupCounters& c) {
  key_.resize(value_at_);
  key_[dimension_at_] = static_cast<char>(d);
  key_.append(value);
  RowFor(key_, HashKey(key_)).Add(c);
}

void BatchRollups::AddPairRow(Dimension d, std::string_view first, std::string_view second, const RollupCounters& c) {
  key_.resize(value_at_);
  key_[dimension_at_] = static_cast<char>(d);
  key_.append(first).append(1, '\0').append(second);
  RowFor(key_, HashKey(key_)).Add(c);
}

void BatchRollups::Add(const UsageEvent& e, const RollupCounters& c, bool duplicate_only) {
  // An event's rows differ only in the dimension byte and the value at the end: the key
  // is built once and each row rewrites those two parts.
  key_.clear();
  AppendRollupKey(key_, e.workspace, e.data_mode, Granularity::kMinute, Dimension::kTotal,
                  BucketStart(e.occurred_at, Granularity::kMinute), {e.environment, e.project}, "");
  value_at_ = key_.size();
  dimension_at_ = RollupDimensionAt(key_);
  AddRow(Dimension::kTotal, "", c);
  const std::string_view feature = e.endpoint_tag.empty() ? std::string_view("unknown") : e.endpoint_tag;
  AddRow(Dimension::kEndpointTag, feature, c);
  if (duplicate_only) return;
  AddRow(Dimension::kModel, e.model, c);
  AddPairRow(Dimension::kFeatureModel, feature, e.model, c);
  AddRow(Dimension::kProvider, e.provider, c);
  AddRow(Dimension::kStatus, e.status ? CallStatusName(*e.status) : "unknown", c);
  if (!e.prompt_version.empty()) {
    AddRow(Dimension::kPromptVersion, e.prompt_version, c);
    AddPairRow(Dimension::kFeaturePrompt, feature, e.prompt_version, c);
  }
  AddRow(Dimension::kUser, e.user_id, c);
  AddRow(Dimension::kTenant, e.tenant_id, c);
  if (c.v[kUnpriced] != 0) {  // (negative when taken back)
    key_.resize(value_at_);
    key_[dimension_at_] = static_cast<char>(Dimension::kUnpricedModel);
    key_.append(e.provider).append(1, '/').append(e.model);
    RowFor(key_, HashKey(key_)).Add(c);
  }
}

void BatchRollups::Remove(const UsageEvent& e, const RollupCounters& c) {
  for (size_t i = 0; i < kRollupFields; ++i) negated_.v[i] = -c.v[i];
  negated_.latency.buckets.assign(c.latency.buckets.begin(), c.latency.buckets.end());
  for (auto& b : negated_.latency.buckets) b.second = -b.second;
  Add(e, negated_, /*duplicate_only=*/false);
}

void BatchRollups::Absorb(const BatchRollups& o) {
  for (const Row& r : o.rows_) {
    if (Counted(r.counters)) RowFor(o.KeyOf(r), r.hash).Add(r.counters);
  }
}

RollupDeltas BatchRollups::Finish() const {
  // A row all of whose events were taken back (Remove), or left from an earlier batch,
  // counts nothing: not written.
  RollupDeltas out;
  out.reserve(rows_.size());
  for (const Row& r : rows_) {
    if (Counted(r.counters)) out.push_back({KeyOf(r), &r.counters});
  }
  std::sort(out.begin(), out.end(),
            [](const RollupDelta& a, const RollupDelta& b) { return a.key < b.key; });
  return out;
}

void BatchRollups::Reset() {
  // Rows are kept in the order their keys sit in keys_, so dropping some moves the
  // kept keys down in place.
  size_t kept = 0, key_end = 0;
  for (size_t n = 0; n < rows_.size(); ++n) {
    Row& r = rows_[n];
    if (!Counted(r.counters)) continue;
    if (r.key_at != key_end)
      std::memmove(keys_.data() + key_end, keys_.data() + r.key_at, r.key_size);
    r.key_at = static_cast<uint32_t>(key_end);
    key_end += r.key_size;
    r.counters.v = {};
    r.counters.latency.buckets.clear();
    if (kept != n) rows_[kept] = std::move(r);
    ++kept;
  }
  if (kept == rows_.size()) return;
  rows_.erase(rows_.begin() + static_cast<std::ptrdiff_t>(kept), rows_.end());
  keys_.resize(key_end);
  if (!slots_.empty()) Rehash(slots_.size());
}

}  // namespace tokenmeter
