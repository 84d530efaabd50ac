// RFC 3339 timestamps <-> TimePoint (UTC, millisecond precision).
#ifndef TOKENMETER_BASE_RFC3339_H_
#define TOKENMETER_BASE_RFC3339_H_

#include <optional>
#include <string>
#include <string_view>

#include "tokenmeter/base/clock.h"

namespace tokenmeter {

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)" ('t'/'z' also accepted); fractions
// beyond milliseconds are truncated. Returns nullopt for anything else, including
// out-of-range fields (month 13, second 61) and years outside 1970..9999.
std::optional<TimePoint> ParseRfc3339(std::string_view text);

// "2026-11-22T10:44:00.123Z".
std::string FormatRfc3339(TimePoint t);

}  // namespace tokenmeter

#endif  // TOKENMETER_BASE_RFC3339_H_
