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

void RateLimiter::AddKey(const std::string& key_id, double rate, double burst) {
  keys_[key_id] = std::make_unique<TokenBucket>(rate, burst);
}

void RateLimiter::AddWorkspace(const std::string& workspace, double rate, double burst) {
  workspaces_[workspace] = std::make_unique<TokenBucket>(rate, burst);
}

LimitDecision RateLimiter::Take(const std::string& key_id, const std::string& workspace,
                                size_t events, std::chrono::steady_clock::time_point now) {
  auto k = keys_.find(key_id);
  auto w = workspaces_.find(workspace);
  TokenBucket* kb = k == keys_.end() ? nullptr : k->second.get();
  TokenBucket* wb = w == workspaces_.end() ? nullptr : w->second.get();
  double n = static_cast<double>(events);
  if ((kb && n > kb->burst()) || (wb && n > wb->burst())) return {LimitScope::kTooLarge, 0};
  auto seconds = [](std::chrono::milliseconds ms) {
    return std::max<int>(1, static_cast<int>((ms.count() + 999) / 1000));
  };
  std::chrono::milliseconds wait{0};
  if (kb && !kb->TryTake(n, now, wait)) return {LimitScope::kKey, seconds(wait)};
  if (wb && !wb->TryTake(n, now, wait)) {
    if (kb) kb->Refund(n);
    return {LimitScope::kWorkspace, seconds(wait)};
  }
  return {};
}

}  // namespace tokenmeter
