#include "batch_dedup.h"

#include <algorithm>

#include "state/fixed_codec.h"

namespace tokenmeter {

Status BatchDedup::Decide(const StateStore& store, const DedupIndex& index, std::span<const DedupInput> inputs,
                          std::chrono::milliseconds window, std::vector<DedupOutcome>& out) {
  // The batch's distinct ids in key order (slot_[i]: input i's id).
  by_key_.resize(inputs.size());
  for (uint32_t i = 0; i < by_key_.size(); ++i) by_key_[i] = i;
  std::sort(by_key_.begin(), by_key_.end(),
            [&](uint32_t a, uint32_t b) { return inputs[a].id < inputs[b].id; });
  keys_.clear();
  key_hashes_.clear();
  slot_.resize(inputs.size());
  for (uint32_t i : by_key_) {
    if (keys_.empty() || keys_.back() != inputs[i].id) {
      keys_.push_back(inputs[i].id);
      key_hashes_.push_back(inputs[i].hash);
    }
    slot_[i] = static_cast<uint32_t>(keys_.size() - 1);
  }
  if (choices_.size() < keys_.size()) choices_.resize(keys_.size());
  for (size_t k = 0; k < keys_.size(); ++k) choices_[k].Clear();
  made_from_.assign(keys_.size(), DedupOutcome::kStored);

  // The rows the index names for them (none for most: a new id), read in one MultiGet in
  // key order.
  row_key_bytes_.clear();
  row_keys_.clear();
  where_.clear();
  index.FindAll(key_hashes_, where_);
  for (const auto& [k, w] : where_) {
    const size_t begin = row_key_bytes_.size();
    w.AppendRowKey(keys_[k], row_key_bytes_);
    row_keys_.push_back(
        {k, static_cast<uint32_t>(begin), static_cast<uint32_t>(row_key_bytes_.size() - begin)});
  }
  if (!row_keys_.empty()) {
    SortDedupRowKeys(row_key_bytes_, row_keys_, row_key_views_);
    RETURN_IF_ERROR(store.MultiGet(Family::kDedup, row_key_views_, values_, /*sorted=*/true));
    for (size_t c = 0; c < row_keys_.size(); ++c) {
      const uint32_t k = row_keys_[c].id;
      if (values_[c]) choices_[k].Consider(row_key_views_[c], *values_[c], keys_[k]);
    }
  }

  // Each event in arrival order against what its id's record is by then.
  out.resize(inputs.size());
  for (uint32_t i = 0; i < inputs.size(); ++i) {
    const DedupInput& in = inputs[i];
    DedupChoice& choice = choices_[slot_[i]];
    DedupOutcome& o = out[i];
    o = DedupOutcome{};
    if (choice.unreadable_bytes) {
      o.verdict = DedupVerdict::kUnreadable;
      o.unreadable_bytes = *choice.unreadable_bytes;
      continue;
    }
    std::optional<DedupRecord>& record = choice.record;
    if (record &&
        record->Expired(TimePoint(std::chrono::milliseconds(in.received_ms)), window)) {
      record.reset();  // first seen before the window: this copy is a new call
    }
    if (!record) {
      record = DedupRecord{in.received_ms, 1, in.fingerprint, {}};
      made_from_[slot_[i]] = i;
      continue;  // kNew
    }
    // A copy of the same call is one more attempt of it; other content under the id is
    // another call (dead-lettered), not an attempt of this one.
    o.verdict = record->fingerprint == in.fingerprint ? DedupVerdict::kDuplicate
                                                      : DedupVerdict::kConflict;
    if (o.verdict == DedupVerdict::kDuplicate) ++record->attempts;
    o.original = made_from_[slot_[i]];
    if (o.original == DedupOutcome::kStored) o.stored_event_key = record->event_key;
  }
  return Status::Ok();
}

void BatchDedup::Stage(DedupIndex& index, StateStore::Batch& batch,
                       const std::function<std::string_view(uint32_t)>& row_key_of) {
  // A duplicate's record where it is stored; a new id's under its event row's key time
  // (never before a row the batches before wrote).
  row_key_bytes_.clear();
  row_keys_.clear();
  added_.clear();
  for (uint32_t k = 0; k < keys_.size(); ++k) {
    if (!choices_[k].record) continue;
    const size_t begin = row_key_bytes_.size();
    if (made_from_[k] == DedupOutcome::kStored) {
      row_key_bytes_.append(choices_[k].key);
    } else {
      const DedupIndex::Where where{
          DedupIndex::KeyTime(static_cast<int64_t>(GetBigEndian(row_key_of(made_from_[k]), 1)))};
      where.AppendRowKey(keys_[k], row_key_bytes_);
      added_.push_back({key_hashes_[k], where});
    }
    row_keys_.push_back(
        {k, static_cast<uint32_t>(begin), static_cast<uint32_t>(row_key_bytes_.size() - begin)});
  }
  index.AddAll(added_);
  SortDedupRowKeys(row_key_bytes_, row_keys_, row_key_views_);
  for (size_t c = 0; c < row_keys_.size(); ++c) {
    const uint32_t k = row_keys_[c].id;
    const DedupRecord& r = *choices_[k].record;
    r.EncodeTo(value_, made_from_[k] == DedupOutcome::kStored ? std::string_view(r.event_key)
                                                              : row_key_of(made_from_[k]));
    batch.Put(Family::kDedup, row_key_views_[c], value_);
  }
}

}  // namespace tokenmeter
