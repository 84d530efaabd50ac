// FakePublisher: an in-memory Publisher for edge tests that must control the bus's answer:
// it can succeed, fail with a given Status, or hold answers until Release() (corked).
// Thread-safe.
#ifndef TOKENMETER_TESTS_SUPPORT_FAKE_PUBLISHER_H_
#define TOKENMETER_TESTS_SUPPORT_FAKE_PUBLISHER_H_

#include <mutex>
#include <vector>

#include "tokenmeter/bus/publisher.h"

namespace tokenmeter::testing {

class FakePublisher final : public Publisher {
 public:
  void Publish(std::span<const BusRecord> records, Done done) override {
    std::unique_lock lock(mu_);
    if (corked_) {
      held_.push_back(std::move(done));
      return;
    }
    Status s = next_;
    if (s.ok()) published_.insert(published_.end(), records.begin(), records.end());
    lock.unlock();
    done(s);
  }
  Status Ready() const override { return ready_; }
  size_t InFlight() const override {
    std::lock_guard lock(mu_);
    return held_.size();
  }
  Status Flush(std::chrono::milliseconds) override { return Status::Ok(); }

  void FailWith(Status s) {
    std::lock_guard lock(mu_);
    next_ = std::move(s);
  }
  void Cork() {
    std::lock_guard lock(mu_);
    corked_ = true;
  }
  // Answers every held Publish with `s`.
  void Release(Status s) {
    std::vector<Done> held;
    {
      std::lock_guard lock(mu_);
      held.swap(held_);
      corked_ = false;
    }
    for (auto& d : held) d(s);
  }
  // Answers the oldest held Publish with `s`; the rest stay held. False if none is held.
  bool ReleaseOldest(Status s) {
    Done d;
    {
      std::lock_guard lock(mu_);
      if (held_.empty()) return false;
      d = std::move(held_.front());
      held_.erase(held_.begin());
    }
    d(s);
    return true;
  }
  std::vector<BusRecord> published() const {
    std::lock_guard lock(mu_);
    return published_;
  }
  Status ready_;  // OK: ready

 private:
  mutable std::mutex mu_;
  Status next_;
  bool corked_ = false;
  std::vector<Done> held_;
  std::vector<BusRecord> published_;
};

}  // namespace tokenmeter::testing

#endif  // TOKENMETER_TESTS_SUPPORT_FAKE_PUBLISHER_H_
