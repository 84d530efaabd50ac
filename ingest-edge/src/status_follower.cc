#include "tokenmeter/edge/status_follower.h"

#include "tokenmeter/base/log.h"
#include "tokenmeter/base/thread_name.h"
#include "tokenmeter/model/workspace_status.h"

namespace tokenmeter {

void StatusFollower::Start() {
  thread_ = StartThread("tm-status", [this] { Run(); });
}

void StatusFollower::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (subscriber_) subscriber_->Close();
}

void StatusFollower::Run() {
  while (!stop_.load()) {
    Result<std::vector<ConsumedRecord>> records = subscriber_->Poll(std::chrono::milliseconds(200), 1000);
    if (!records.ok()) {
      Log(LogLevel::kError, "edge", "status_poll_failed", {{"error", records.status().ToString()}});
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    for (const ConsumedRecord& r : *records) {
      std::optional<WorkspaceStatus> s = DecodeWorkspaceStatus(r.value);
      if (!s) {
        Log(LogLevel::kWarn, "edge", "status_record_skipped",
            {{"workspace", r.key}, {"offset", std::to_string(r.offset)}});
        continue;
      }
      edge_.SetWorkspaceStatus(r.key, *s);
      ++applied_;
    }
  }
}

}  // namespace tokenmeter
