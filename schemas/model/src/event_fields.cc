#include "event_fields.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace tokenmeter {

const NameTable& Names(Dialect d) {
  static const NameTable ingest(Dialect::kIngest);
  static const NameTable canonical(Dialect::kCanonical);
  return d == Dialect::kIngest ? ingest : canonical;
}

std::string MissingName(const FieldSpec& s, Dialect d) {
  if (d == Dialect::kCanonical) return s.canonical;
  return s.opsmeter ? s.opsmeter : s.costlynx;
}

std::string MissingMessage(const FieldSpec& s, Dialect d) {
  if (d == Dialect::kCanonical || !s.opsmeter || !s.costlynx ||
      std::strcmp(s.opsmeter, s.costlynx) == 0) {
    return "is required";
  }
  return std::string("is required (") + s.opsmeter + " or " + s.costlynx + ")";
}

// Whether `s` holds a byte below 0x20 or 0x7f; 8 bytes a step (every text field of every
// event passes here).
namespace {

// From the first word with a byte >= 0x80 on, byte by byte. Text is valid UTF-8 here: the
// C1 controls U+0080-U+009F are C2 80-9F; U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
bool HasControlCharBytewise(std::string_view s) {
  auto at = [&s](size_t j) { return j < s.size() ? static_cast<unsigned char>(s[j]) : 0; };
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && at(i + 1) >= 0x80 && at(i + 1) <= 0x9f) return true;
    if (c == 0xe2 && at(i + 1) == 0x80 && (at(i + 2) == 0xa8 || at(i + 2) == 0xa9)) return true;
  }
  return false;
}

}  // namespace

bool HasControlChar(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  // 8 bytes a step, the last word padded with spaces; ASCII text never leaves this loop.
  for (size_t i = 0; i < s.size(); i += 8) {
    uint64_t w = 0x20 * kOnes;
    std::memcpy(&w, s.data() + i, std::min<size_t>(8, s.size() - i));
    uint64_t below_0x20 = (w - 0x20 * kOnes) & ~w & kHigh;  // some byte < 0x20
    uint64_t del = w ^ (0x7f * kOnes);
    uint64_t is_del = (del - kOnes) & ~del & kHigh;  // some byte == 0x7f
    if (below_0x20 | is_del) return true;
    if (w & kHigh) return HasControlCharBytewise(s.substr(i));
  }
  return false;
}

// Sets the warning when total_tokens is given and is not input + output (both forms).
void MarkTotalTokensMismatch(UsageEvent& e) {
  if (e.total_tokens && *e.total_tokens != e.input_tokens + e.output_tokens) {
    e.warnings |= kWarnTotalTokensMismatch;
  }
}

// The rules for a text field and for the request id, shared by the JSON form's validator
// and the binary record's checks: "" when `s` passes, else what is wrong with it.
std::string TextProblem(std::string_view s, size_t max_bytes) {
  if (s.size() > max_bytes) return "must be at most " + std::to_string(max_bytes) + " bytes";
  if (HasControlChar(s)) return "must not contain control characters";
  return "";
}

std::string RequestIdProblem(std::string_view s, size_t max_bytes) {
  if (s.empty()) return "must not be empty";
  if (s.size() > max_bytes) return "must be at most " + std::to_string(max_bytes) + " bytes";
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return "must contain only printable ASCII characters";
  }
  return "";
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace tokenmeter
