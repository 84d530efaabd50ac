#include "rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace tokenmeter {

void TokenBucket::Refill(std::chrono::steady_clock::time_point now) {
  if (!started_) {
    started_ = true;
    last_ = now;
    return;
  }
  if (now <= last_) return;
  double secs = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + secs * rate_);
  last_ = now;
}

bool TokenBucket::TryTake(double n, std::chrono::steady_clock::time_point now,
                          std::chrono::milliseconds& wait) {
  std::lock_guard lock(mu_);
  Refill(now);
  if (tokens_ >= n) {
    tokens_ -= n;
    return true;
  }
  wait = std::chrono::milliseconds(static_cast<long long>(std::ceil((n - tokens_) / rate_ * 1000)));
  return false;
}

void TokenBucket::Refund(double n) {
  std::lock_guard lock(mu_);
  tokens_ = std::min(burst_, tokens_ + n);
}

TokenBucket& RateLimiter::BucketOf(Buckets& buckets, const std::string& id, RateLimit limit) {
  {
    std::shared_lock lock(mu_);
    auto it = buckets.find(id);
    if (it != buckets.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto [it, added] = buckets.try_emplace(id, nullptr);
  if (added) it->second = std::make_unique<TokenBucket>(limit.rate, limit.burst);
  return *it->second;
}

LimitDecision RateLimiter::Take(const std::string& key_id, RateLimit key_limit, const std::string& workspace,
                                RateLimit workspace_limit, size_t events, std::chrono::steady_clock::time_point now) {
  TokenBucket& kb = BucketOf(keys_, key_id, key_limit);
  TokenBucket& wb = BucketOf(workspaces_, workspace, workspace_limit);
  double n = static_cast<double>(events);
  if (n > kb.burst() || n > wb.burst()) return {LimitScope::kTooLarge, 0};
  auto seconds = [](std::chrono::milliseconds ms) {
    return std::max<int>(1, static_cast<int>((ms.count() + 999) / 1000));
  };
  std::chrono::milliseconds wait{0};
  if (!kb.TryTake(n, now, wait)) return {LimitScope::kKey, seconds(wait)};
  if (!wb.TryTake(n, now, wait)) {
    kb.Refund(n);
    return {LimitScope::kWorkspace, seconds(wait)};
  }
  return {};
}

}  // namespace tokenmeter
