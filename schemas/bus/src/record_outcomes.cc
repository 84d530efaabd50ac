#include "tokenmeter/bus/record_outcomes.h"

#include <algorithm>

#include "tokenmeter/base/thread_name.h"

namespace tokenmeter {

RecordOutcomes::RecordOutcomes() : thread_(StartThread("tm-outcomes", [this] { Loop(); })) {}

RecordOutcomes::~RecordOutcomes() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void RecordOutcomes::Applied(int partition, int64_t first_offset, std::span<const RecordOutcome> outcomes) {
  if (outcomes.empty()) return;
  {
    std::lock_guard lock(mu_);
    Lane& lane = lanes_[partition];
    if (lane.outcomes.empty() || first_offset != lane.base + static_cast<int64_t>(lane.outcomes.size())) {
      lane.outcomes.clear();  // a gap (a restart, a rebalance): what is kept must be contiguous
      lane.base = first_offset;
    }
    lane.outcomes.insert(lane.outcomes.end(), outcomes.begin(), outcomes.end());
    while (lane.outcomes.size() > kKeep) {
      lane.outcomes.pop_front();
      ++lane.base;
    }
    changed_ = true;
  }
  cv_.notify_all();
}

void RecordOutcomes::Await(int partition, std::vector<int64_t> offsets,
                           std::chrono::steady_clock::time_point deadline, Ready ready) {
  std::unique_lock lock(mu_);
  Waiter w{partition, std::move(offsets), deadline, std::move(ready)};
  if (stop_) {  // the loop has called its last waiters
    std::vector<RecordOutcome> known = Collect(w);
    lock.unlock();
    w.ready(std::move(known));
    return;
  }
  waiters_.push_back(std::move(w));
  changed_ = true;
  lock.unlock();
  cv_.notify_all();
}

bool RecordOutcomes::Complete(const Waiter& w) const {
  auto it = lanes_.find(w.partition);
  if (it == lanes_.end()) return false;
  const Lane& lane = it->second;
  return w.offsets.empty() || (w.offsets.front() >= lane.base &&
                               w.offsets.back() < lane.base + static_cast<int64_t>(lane.outcomes.size()));
}

std::vector<RecordOutcome> RecordOutcomes::Collect(const Waiter& w) const {
  std::vector<RecordOutcome> out(w.offsets.size());
  auto it = lanes_.find(w.partition);
  if (it == lanes_.end()) return out;
  const Lane& lane = it->second;
  const int64_t end = lane.base + static_cast<int64_t>(lane.outcomes.size());
  for (size_t i = 0; i < w.offsets.size(); ++i) {
    const int64_t o = w.offsets[i];
    if (o >= lane.base && o < end) out[i] = lane.outcomes[static_cast<size_t>(o - lane.base)];
  }
  return out;
}

void RecordOutcomes::Loop() {
  std::unique_lock lock(mu_);
  std::vector<std::pair<Ready, std::vector<RecordOutcome>>> due;
  for (;;) {
    auto next = std::chrono::steady_clock::time_point::max();
    for (const Waiter& w : waiters_) next = std::min(next, w.deadline);
    cv_.wait_until(lock, next, [this] { return changed_ || stop_; });
    changed_ = false;
    const auto now = std::chrono::steady_clock::now();
    // Complete waiters, those past their deadline and, on stopping, every one.
    auto done = std::stable_partition(waiters_.begin(), waiters_.end(), [&](const Waiter& w) {
      return !(stop_ || w.deadline <= now || Complete(w));
    });
    for (auto it = done; it != waiters_.end(); ++it) due.emplace_back(std::move(it->ready), Collect(*it));
    waiters_.erase(done, waiters_.end());
    const bool stopping = stop_;
    lock.unlock();
    for (auto& [ready, outcomes] : due) ready(std::move(outcomes));
    due.clear();
    if (stopping) return;
    lock.lock();
  }
}

std::string EncodeAppliedRecords(int64_t first_offset, std::span<const RecordOutcome> outcomes) {
  std::string out;
  out.reserve(9 + outcomes.size());
  out.push_back(1);
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(static_cast<uint64_t>(first_offset) >> shift));
  for (const RecordOutcome& o : outcomes) {
    out.push_back(static_cast<char>(static_cast<uint8_t>(o.verdict) | (o.unpriced ? 8 : 0)));
  }
  return out;
}

std::optional<std::pair<int64_t, std::vector<RecordOutcome>>> DecodeAppliedRecords(std::string_view value) {
  if (value.size() < 9 || value[0] != 1) return std::nullopt;
  uint64_t first = 0;
  for (size_t i = 1; i < 9; ++i) first = (first << 8) | static_cast<uint8_t>(value[i]);
  std::vector<RecordOutcome> outcomes;
  outcomes.reserve(value.size() - 9);
  for (size_t i = 9; i < value.size(); ++i) {
    const uint8_t b = static_cast<uint8_t>(value[i]);
    if ((b & 7) > static_cast<uint8_t>(RecordVerdict::kRejected) || b > 15) return std::nullopt;
    outcomes.push_back({static_cast<RecordVerdict>(b & 7), (b & 8) != 0});
  }
  return std::make_pair(static_cast<int64_t>(first), std::move(outcomes));
}

}  // namespace tokenmeter
