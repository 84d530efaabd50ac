// RateLimiter: token buckets per API key and per workspace, counted in events (a batch of
// 100 costs 100), so batching cannot evade a limit. A bucket is made the first time its
// key or workspace is seen (keys come and go at run time) with the limits given then;
// lookups share a reader lock, and each bucket has its own small mutex. Any thread.
#ifndef TOKENMETER_EDGE_RATE_LIMITER_H_
#define TOKENMETER_EDGE_RATE_LIMITER_H_

#include <chrono>
#include <memory>
#include <mutex>
#include <shared_mutex>
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

struct RateLimit {
  double rate = 0;   // events per second
  double burst = 0;  // events
};

class RateLimiter {
 public:
  // Takes `events` from the key's and the workspace's buckets, or neither. A bucket not
  // seen before starts full with the limit given.
  LimitDecision Take(const std::string& key_id, RateLimit key_limit, const std::string& workspace,
                     RateLimit workspace_limit, size_t events, std::chrono::steady_clock::time_point now);

 private:
  using Buckets = std::unordered_map<std::string, std::unique_ptr<TokenBucket>>;
  TokenBucket& BucketOf(Buckets& buckets, const std::string& id, RateLimit limit);
  std::shared_mutex mu_;  // guards the maps (not the buckets)
  Buckets keys_;
  Buckets workspaces_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_EDGE_RATE_LIMITER_H_
