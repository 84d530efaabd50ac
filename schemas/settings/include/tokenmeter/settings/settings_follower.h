// SettingsFollower: reads the settings log from its start, for as long as the process
// runs, and applies each change to LiveSettings in the log's order. A process serves
// only once CaughtUp() (every record that was in the log when it started is applied:
// SettingsGate), so it starts with the current settings.
//
// Threads: Start() spawns the follow thread (it calls LiveSettings::Apply and expires
// its waiters every poll, 100 ms at most); Stop() and the rest from the owner.
#ifndef TOKENMETER_SETTINGS_SETTINGS_FOLLOWER_H_
#define TOKENMETER_SETTINGS_SETTINGS_FOLLOWER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "tokenmeter/bus/subscriber.h"
#include "tokenmeter/settings/live_settings.h"

namespace tokenmeter {

class SettingsFollower {
 public:
  SettingsFollower(std::unique_ptr<Subscriber> subscriber, LiveSettings& settings)
      : subscriber_(std::move(subscriber)), settings_(settings) {}
  ~SettingsFollower() { Stop(); }
  void Start();
  void Stop();
  // True once the follower has read to the log's end at least once. Any thread.
  bool CaughtUp() const { return caught_up_.load(); }
  // Waits until CaughtUp() or `timeout`; returns CaughtUp().
  bool WaitCaughtUp(std::chrono::milliseconds timeout);

 private:
  void Run();
  std::unique_ptr<Subscriber> subscriber_;
  LiveSettings& settings_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> caught_up_{false};
  std::mutex mu_;
  std::condition_variable caught_up_cv_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_SETTINGS_SETTINGS_FOLLOWER_H_
