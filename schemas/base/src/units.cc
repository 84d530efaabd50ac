#include "tokenmeter/base/units.h"

#include <cstdlib>

namespace tokenmeter {

std::optional<NanoUsd> ParseDecimalUsd(std::string_view text, int64_t max_usd) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && frac.empty())) return std::nullopt;
  if (whole.size() > 1 && whole[0] == '0') return std::nullopt;  // JSON forbids leading zeros
  int64_t units = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return std::nullopt;
    units = units * 10 + (c - '0');
    if (units > max_usd) return std::nullopt;
  }
  int64_t nanos = 0;
  for (size_t i = 0; i < frac.size(); ++i) {
    char c = frac[i];
    if (c < '0' || c > '9') return std::nullopt;
    if (i < 9) nanos = nanos * 10 + (c - '0');
  }
  for (size_t i = frac.size(); i < 9; ++i) nanos *= 10;
  if (frac.size() > 9) {
    // Round half to even on the first dropped digit and whether anything follows it.
    int first = frac[9] - '0';
    bool rest_nonzero = frac.find_first_not_of('0', 10) != std::string_view::npos;
    bool round_up = first > 5 || (first == 5 && (rest_nonzero || (nanos % 2) == 1));
    if (round_up) ++nanos;
  }
  int64_t total = units * 1'000'000'000 + nanos;
  if (total > max_usd * 1'000'000'000) return std::nullopt;
  return NanoUsd{total};
}

std::string FormatUsd(NanoUsd amount) {
  int64_t v = amount.value;
  std::string sign = v < 0 ? "-" : "";
  uint64_t abs = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  std::string frac = std::to_string(abs % 1'000'000'000);
  frac.insert(0, 9 - frac.size(), '0');
  return sign + std::to_string(abs / 1'000'000'000) + "." + frac;
}

}  // namespace tokenmeter
