// The dedup family: one record per (workspace, request_id) inside the retention window.
// A duplicate raises `attempts` (the retry multiplier) and adds no cost or volume; a
// duplicate whose payload differs from the original is a conflict (counted, not applied).
// Pure value code; any thread.
#ifndef TOKENMETER_PROCESSOR_DEDUP_DEDUP_RECORD_H_
#define TOKENMETER_PROCESSOR_DEDUP_DEDUP_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tokenmeter/model/usage_event.h"

namespace tokenmeter {

struct DedupRecord {
  int64_t first_seen_ms = 0;  // receive time of the first copy
  uint32_t attempts = 1;      // copies seen, the first included
  uint64_t fingerprint = 0;   // of the call's content (not receive time or key)
  std::string event_key;      // the original's row in the events family

  std::string Encode() const;
  static std::optional<DedupRecord> Decode(std::string_view bytes);
};

std::string DedupKey(std::string_view workspace, std::string_view request_id);

// A hash of what the call was (provider, model, tokens, attribution, time, cost); equal
// for a client's retry of the same call, different for a reused id with other content.
uint64_t Fingerprint(const UsageEvent& e);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_DEDUP_DEDUP_RECORD_H_
