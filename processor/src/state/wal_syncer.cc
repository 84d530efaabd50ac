#include "wal_syncer.h"

#include <utility>

#include "tokenmeter/base/log.h"
#include "tokenmeter/base/thread_name.h"

namespace tokenmeter {

WalSyncer::WalSyncer(std::function<Status()> sync, std::chrono::milliseconds min_interval)
    : sync_(std::move(sync)), min_interval_(min_interval) {
  thread_ = std::thread([this] {
    NameThisThread("tm-wal-sync");
    std::unique_lock lock(mu_);
    auto next_allowed = std::chrono::steady_clock::time_point::min();
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || requested_; });
      if (!requested_) return;  // stopping, nothing left to sync
      cv_.wait_until(lock, next_allowed, [this] { return stop_; });  // a stop syncs at once
      next_allowed = std::chrono::steady_clock::now() + min_interval_;
      std::map<int, int64_t> covered;
      covered.swap(pending_);
      requested_ = false;
      lock.unlock();
      Status synced = sync_();
      lock.lock();
      if (!synced.ok()) {
        Log(LogLevel::kError, "processor", "sync_failed", {{"error", synced.ToString()}});
        if (error_.ok()) error_ = std::move(synced);
        continue;
      }
      for (const auto& [partition, next] : covered) synced_[partition] = next;
    }
  });
}

WalSyncer::~WalSyncer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void WalSyncer::Request(const std::map<int, int64_t>& positions) {
  {
    std::lock_guard lock(mu_);
    for (const auto& [partition, next] : positions) pending_[partition] = next;
    requested_ = true;
  }
  cv_.notify_all();
}

std::map<int, int64_t> WalSyncer::TakeSynced(Status& error) {
  std::lock_guard lock(mu_);
  error = std::exchange(error_, Status::Ok());
  return std::exchange(synced_, {});
}

}  // namespace tokenmeter
