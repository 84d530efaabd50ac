// Clock: the one source of "now" for tokenmeter code, injected so tests control time.
//
// SystemClock reads the real wall clock; FakeClock (tests) is set and advanced by hand.
// Implementations are thread-safe: any thread may call Now().
#ifndef TOKENMETER_BASE_CLOCK_H_
#define TOKENMETER_BASE_CLOCK_H_

#include <atomic>
#include <chrono>

namespace tokenmeter {

using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, millisecond precision (event timestamps and windows use it).
  virtual TimePoint Now() const = 0;
  // Monotonic time for rate limiting and deadlines; never jumps backwards.
  virtual std::chrono::steady_clock::time_point Steady() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
  }
  std::chrono::steady_clock::time_point Steady() const override {
    return std::chrono::steady_clock::now();
  }
};

// Test clock: both wall and steady time move only when Advance() or Set() is called.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint start) : wall_ms_(start.time_since_epoch().count()) {}
  TimePoint Now() const override { return TimePoint(std::chrono::milliseconds(wall_ms_.load())); }
  std::chrono::steady_clock::time_point Steady() const override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(steady_ms_.load()));
  }
  void Advance(std::chrono::milliseconds d) {
    wall_ms_ += d.count();
    steady_ms_ += d.count();
  }
  void Set(TimePoint t) { wall_ms_ = t.time_since_epoch().count(); }

 private:
  std::atomic<long long> wall_ms_;
  std::atomic<long long> steady_ms_{1'000'000};
};

}  // namespace tokenmeter

#endif  // TOKENMETER_BASE_CLOCK_H_
