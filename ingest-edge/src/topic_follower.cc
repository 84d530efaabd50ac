#include "tokenmeter/edge/topic_follower.h"

#include "tokenmeter/base/log.h"
#include "tokenmeter/base/thread_name.h"

namespace tokenmeter {

void TopicFollower::Start() {
  thread_ = StartThread("tm-follow", [this] { Run(); });
}

void TopicFollower::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (subscriber_) subscriber_->Close();
}

void TopicFollower::Run() {
  while (!stop_.load()) {
    Result<std::vector<ConsumedRecord>> records = subscriber_->Poll(std::chrono::milliseconds(100), 1000);
    following_ = !subscriber_->Assigned().empty();
    if (!records.ok()) {
      Log(LogLevel::kError, "edge", what_ + "_poll_failed", {{"error", records.status().ToString()}});
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    for (const ConsumedRecord& r : *records) {
      if (apply_(r)) {
        ++applied_;
      } else {
        Log(LogLevel::kWarn, "edge", what_ + "_record_skipped", {{"key", r.key}, {"offset", std::to_string(r.offset)}});
      }
    }
  }
}

}  // namespace tokenmeter
