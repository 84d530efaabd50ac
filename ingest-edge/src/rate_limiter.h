// RateLimiter: token buckets per API key and per workspace, counted in events (a batch of
// 100 costs 100), so batching cannot evade a limit. Buckets are created up front from the
// config, so the map is read-only at run time; each bucket has its own small mutex.
// Any thread.
#ifndef TOKENMETER_EDGE_RATE_LIMITER_H_
#define TOKENMETER_EDGE_RATE_LIMITER_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tokenmeter {

class TokenBucket {
 public:
  TokenBucket(double rate_per_s, double burst) : rate_(rate_per_s), burst_(burst), tokens_(burst) {}
  // Takes n tokens if available. Otherwise returns the wait until they would be.
  bool TryTake(double n, std::chrono::steady_clock::time_point now,
               std::chrono::milliseconds& wait);
  void Refund(double n);
  double burst() const { return burst_; }

 private:
  void Refill(std::chrono::steady_clock::time_point now);
  std::mutex mu_;
  const double rate_;
  const double burst_;
  double tokens_;
  std::chrono::steady_clock::time_point last_{};
  bool started_ = false;
};

enum class LimitScope { kNone, kKey, kWorkspace, kTooLarge };

struct LimitDecision {
  LimitScope scope = LimitScope::kNone;  // kNone: allowed
  int retry_after_s = 0;                 // whole seconds, rounded up, >= 1 when limited
};

class RateLimiter {
 public:
  void AddKey(const std::string& key_id, double rate, double burst);
  void AddWorkspace(const std::string& workspace, double rate, double burst);
  // Takes `events` from the key's and the workspace's buckets, or neither.
  LimitDecision Take(const std::string& key_id, const std::string& workspace, size_t events,
                     std::chrono::steady_clock::time_point now);

 private:
  std::unordered_map<std::string, std::unique_ptr<TokenBucket>> keys_;
  std::unordered_map<std::string, std::unique_ptr<TokenBucket>> workspaces_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_EDGE_RATE_LIMITER_H_
