#include "detectors.h"

#include <algorithm>
#include <vector>

namespace tokenmeter {
namespace {

constexpr int64_t kMillion = 1'000'000;

int64_t Median(std::vector<int64_t> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int64_t Ppm(int64_t part, int64_t whole) {
  return whole == 0 ? 0 : static_cast<int64_t>(static_cast<__int128>(part) * kMillion / whole);
}

int64_t PicoPerRequest(const WindowStats& w) {
  return static_cast<int64_t>(static_cast<__int128>(w.cost_nano) * 1000 / w.requests);
}

std::string FormatFixed(int64_t v, int64_t scale, int digits) {
  std::string frac = std::to_string(v % scale);
  return std::to_string(v / scale) + "." + std::string(digits - frac.size(), '0') + frac;
}

}  // namespace

std::string FormatMicro(int64_t micro) { return FormatFixed(micro, kMillion, 6); }
std::string FormatPicoUsd(int64_t pico) { return FormatFixed(pico, 1'000'000'000'000, 12); }

std::optional<Finding> CostPerRequestDrift(std::span<const WindowStats> previous, const WindowStats& current,
                                           const DetectorConfig& c) {
  if (current.requests < c.cpr_min_requests) return std::nullopt;
  std::vector<int64_t> cpr;
  for (const WindowStats& w : previous) {
    if (w.requests >= c.cpr_min_requests) cpr.push_back(PicoPerRequest(w));
  }
  if (static_cast<int>(cpr.size()) < c.min_baseline_windows) return std::nullopt;
  int64_t median = Median(cpr);
  if (median <= 0) return std::nullopt;
  std::vector<int64_t> dev;
  for (int64_t x : cpr) dev.push_back(x > median ? x - median : median - x);
  int64_t mad = Median(dev);
  // 1.4826 x MAD estimates the standard deviation of normal data.
  int64_t robust = median + static_cast<int64_t>(static_cast<__int128>(c.cpr_mad_k_ppm) * 1'482'600 * mad /
                                                 (static_cast<__int128>(kMillion) * kMillion));
  int64_t by_ratio = static_cast<int64_t>(static_cast<__int128>(median) * c.cpr_min_ratio_ppm / kMillion);
  int64_t now = PicoPerRequest(current);
  if (now < by_ratio || now <= robust) return std::nullopt;
  Finding f{AlertType::kCostPerRequestDrift, "usd_per_request", FormatPicoUsd(now), FormatPicoUsd(median),
            FormatPicoUsd(std::max(by_ratio, robust + 1)), ""};
  f.what = "cost per request rose to $" + f.observed + " from a median of $" + f.baseline + " (" +
           FormatMicro(Ppm(now, median)) + "x) over " + std::to_string(cpr.size()) + " previous windows";
  return f;
}

std::optional<Finding> SpendSpike(std::span<const WindowStats> previous, const WindowStats& current,
                                  const DetectorConfig& c) {
  if (static_cast<int>(previous.size()) < c.min_baseline_windows || current.cost_nano < c.spike_min_nano) {
    return std::nullopt;
  }
  std::vector<int64_t> spend;
  for (const WindowStats& w : previous) spend.push_back(w.cost_nano);
  int64_t median = Median(spend);
  int64_t threshold = std::max<int64_t>(
      c.spike_min_nano, static_cast<int64_t>(static_cast<__int128>(median) * c.spike_ratio_ppm / kMillion));
  if (current.cost_nano < threshold) return std::nullopt;
  Finding f{AlertType::kSpendSpike, "usd", FormatFixed(current.cost_nano, 1'000'000'000, 9),
            FormatFixed(median, 1'000'000'000, 9), FormatFixed(threshold, 1'000'000'000, 9), ""};
  f.what = "spend in the window was $" + f.observed + " against a median of $" + f.baseline +
           " over the previous " + std::to_string(previous.size()) + " windows";
  return f;
}

std::optional<Finding> RequestBurst(std::span<const WindowStats> previous, const WindowStats& current,
                                    const DetectorConfig& c) {
  if (static_cast<int>(previous.size()) < c.min_baseline_windows || current.requests < c.burst_min_requests) {
    return std::nullopt;
  }
  std::vector<int64_t> reqs;
  int64_t base_req = 0, base_ok = 0;
  for (const WindowStats& w : previous) {
    reqs.push_back(w.requests);
    base_req += w.requests;
    base_ok += w.successes;
  }
  int64_t median = Median(reqs);
  int64_t threshold = static_cast<int64_t>(static_cast<__int128>(median) * c.burst_ratio_ppm / kMillion);
  if (current.requests < threshold || base_req == 0) return std::nullopt;
  int64_t base_ratio = Ppm(base_ok, base_req), now_ratio = Ppm(current.successes, current.requests);
  if (base_ratio - now_ratio < static_cast<int64_t>(c.burst_success_drop_ppm)) return std::nullopt;
  Finding f{AlertType::kRequestBurst, "requests", std::to_string(current.requests), std::to_string(median),
            std::to_string(threshold), ""};
  f.what = std::to_string(current.requests) + " requests against a median of " + std::to_string(median) +
           ", with the success ratio down to " + FormatMicro(now_ratio) + " from " + FormatMicro(base_ratio);
  return f;
}

std::optional<Finding> TenantConcentration(const std::map<std::string, int64_t>& spend_by_tenant,
                                           int64_t total_nano, const DetectorConfig& c) {
  // One tenant in the window is not a concentration: there is nobody to dominate.
  if (total_nano < c.tenant_min_spend_nano || spend_by_tenant.size() < 2) return std::nullopt;
  auto top = std::max_element(spend_by_tenant.begin(), spend_by_tenant.end(),
                              [](const auto& a, const auto& b) { return a.second < b.second; });
  int64_t share = Ppm(top->second, total_nano);
  if (share < static_cast<int64_t>(c.tenant_share_ppm)) return std::nullopt;
  Finding f{AlertType::kTenantConcentration, "ratio", FormatMicro(share), "", FormatMicro(c.tenant_share_ppm), ""};
  f.what = "tenant " + top->first + " made " + FormatMicro(share) + " of the window's spend ($" +
           FormatFixed(top->second, 1'000'000'000, 9) + " of $" + FormatFixed(total_nano, 1'000'000'000, 9) + ")";
  return f;
}

std::optional<Finding> UnpricedShare(const WindowStats& current, const DetectorConfig& c) {
  if (current.requests < c.unpriced_min_requests) return std::nullopt;
  int64_t share = Ppm(current.unpriced, current.requests);
  if (share < static_cast<int64_t>(c.unpriced_share_ppm)) return std::nullopt;
  Finding f{AlertType::kUnpricedShare, "ratio", FormatMicro(share), "", FormatMicro(c.unpriced_share_ppm), ""};
  f.what = std::to_string(current.unpriced) + " of " + std::to_string(current.requests) +
           " requests had a model with no known price (" + FormatMicro(share) + "); their cost is unknown";
  return f;
}

}  // namespace tokenmeter
