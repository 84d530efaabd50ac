#include "dedup_record.h"

#include "tokenmeter/model/event_codec.h"

namespace tokenmeter {
namespace {

void Put64(std::string& out, uint64_t v) {
  for (int b = 0; b < 8; ++b) out.push_back(static_cast<char>((v >> (8 * b)) & 0xff));
}
uint64_t Get64(std::string_view s, size_t at) {
  uint64_t v = 0;
  for (int b = 0; b < 8; ++b) v |= static_cast<uint64_t>(static_cast<unsigned char>(s[at + b])) << (8 * b);
  return v;
}

}  // namespace

std::string DedupRecord::Encode() const {
  std::string out;
  out.push_back(1);  // record version
  Put64(out, static_cast<uint64_t>(first_seen_ms));
  Put64(out, attempts);
  Put64(out, fingerprint);
  out += event_key;
  return out;
}

std::optional<DedupRecord> DedupRecord::Decode(std::string_view b) {
  if (b.size() < 25 || b[0] != 1) return std::nullopt;
  DedupRecord r;
  r.first_seen_ms = static_cast<int64_t>(Get64(b, 1));
  r.attempts = static_cast<uint32_t>(Get64(b, 9));
  r.fingerprint = Get64(b, 17);
  r.event_key.assign(b.substr(25));
  return r;
}

std::string DedupKey(std::string_view workspace, std::string_view request_id) {
  std::string k(workspace);
  k.push_back('\0');
  k.append(request_id);
  return k;
}

uint64_t Fingerprint(const UsageEvent& e) {
  UsageEvent content = e;
  content.received_at = {};
  content.api_key_id.clear();
  std::string text;
  EncodeCanonical(content, text);
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace tokenmeter
