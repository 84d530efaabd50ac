#include "tokenmeter/edge/outcomes_follower.h"

#include <charconv>

#include "tokenmeter/base/log.h"
#include "tokenmeter/base/thread_name.h"

namespace tokenmeter {

void OutcomesFollower::Start() {
  thread_ = StartThread("tm-outcomes-in", [this] { Run(); });
}

void OutcomesFollower::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (subscriber_) subscriber_->Close();
}

void OutcomesFollower::Run() {
  while (!stop_.load()) {
    Result<std::vector<ConsumedRecord>> records = subscriber_->Poll(std::chrono::milliseconds(100), 1000);
    following_ = !subscriber_->Assigned().empty();
    if (!records.ok()) {
      Log(LogLevel::kError, "edge", "outcomes_poll_failed", {{"error", records.status().ToString()}});
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    for (const ConsumedRecord& r : *records) {
      int partition = -1;
      auto [end, ec] = std::from_chars(r.key.data(), r.key.data() + r.key.size(), partition);
      auto applied = DecodeAppliedRecords(r.value);
      if (ec != std::errc() || end != r.key.data() + r.key.size() || !applied) {
        Log(LogLevel::kWarn, "edge", "outcomes_record_skipped",
            {{"key", r.key}, {"offset", std::to_string(r.offset)}});
        continue;
      }
      outcomes_.Applied(partition, applied->first, applied->second);
    }
  }
}

}  // namespace tokenmeter
