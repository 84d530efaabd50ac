#include "tokenmeter/settings/settings_follower.h"

#include "tokenmeter/base/log.h"
#include "tokenmeter/base/thread_name.h"

namespace tokenmeter {

void SettingsFollower::Start() {
  thread_ = StartThread("tm-settings", [this] { Run(); });
}

void SettingsFollower::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (subscriber_) subscriber_->Close();
}

bool SettingsFollower::WaitCaughtUp(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  caught_up_cv_.wait_for(lock, timeout, [this] { return caught_up_.load(); });
  return caught_up_.load();
}

void SettingsFollower::Run() {
  while (!stop_.load()) {
    Result<std::vector<ConsumedRecord>> records = subscriber_->Poll(std::chrono::milliseconds(100), 1000);
    if (!records.ok()) {
      Log(LogLevel::kError, "settings", "poll_failed", {{"error", records.status().ToString()}});
      settings_.ExpireWaiters(std::chrono::steady_clock::now());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    for (const ConsumedRecord& r : *records) {
      Result<SettingsChange> change = DecodeSettingsChange(r.value);
      if (change.ok() && change->workspace == r.key) {
        settings_.Apply(r.partition, r.offset, *change);
      } else {
        const std::string why = change.ok() ? "the record's key is not its workspace" : change.status().message();
        Log(LogLevel::kError, "settings", "record_unreadable",
            {{"partition", std::to_string(r.partition)}, {"offset", std::to_string(r.offset)}, {"error", why}});
        settings_.Unreadable(r.partition, r.offset, why);
      }
    }
    settings_.ExpireWaiters(std::chrono::steady_clock::now());
    if (!caught_up_.load() && records->empty() && !subscriber_->Assigned().empty()) {
      std::map<int, int64_t> lag = subscriber_->Lag();
      bool at_end = lag.size() == subscriber_->Assigned().size();
      for (const auto& [partition, behind] : lag) at_end = at_end && behind == 0;
      if (at_end) {
        std::lock_guard lock(mu_);
        caught_up_ = true;
        caught_up_cv_.notify_all();
        Log(LogLevel::kInfo, "settings", "settings_loaded", {});
      }
    }
  }
}

}  // namespace tokenmeter
