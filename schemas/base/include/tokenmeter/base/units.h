// Strong units. Money is integer nano-USD and never a double; token counts are unsigned.
#ifndef TOKENMETER_BASE_UNITS_H_
#define TOKENMETER_BASE_UNITS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tokenmeter {

// An amount of money in nano-USD (1e-9 USD). Signed so corrections can be expressed;
// int64 holds ±9.2e9 USD, far beyond any single workspace's spend.
struct NanoUsd {
  int64_t value = 0;
  friend bool operator==(NanoUsd, NanoUsd) = default;
  friend auto operator<=>(NanoUsd, NanoUsd) = default;
};

using TokenCount = uint64_t;

// Parses a non-negative decimal in plain or exponent-free notation ("0.000123", "12",
// "1.5") into nano-USD, rounding once, half to even, beyond 9 fractional digits.
// Returns nullopt for anything else (sign, exponent, empty, non-digits) or above max_usd.
std::optional<NanoUsd> ParseDecimalUsd(std::string_view text, int64_t max_usd);

// Formats nano-USD as an exact decimal with 9 fractional digits ("0.000123000").
std::string FormatUsd(NanoUsd amount);

}  // namespace tokenmeter

#endif  // TOKENMETER_BASE_UNITS_H_
