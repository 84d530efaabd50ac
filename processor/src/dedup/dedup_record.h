// The dedup family: one record per (workspace, request_id) inside the retention window.
// A duplicate raises `attempts` (the retry multiplier) and adds no cost or volume; a
// duplicate whose payload differs from the original is a conflict (counted, not applied).
// Pure value code; any thread.
#ifndef TOKENMETER_PROCESSOR_DEDUP_DEDUP_RECORD_H_
#define TOKENMETER_PROCESSOR_DEDUP_DEDUP_RECORD_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/stored_event.h"
#include "tokenmeter/model/usage_event.h"

namespace tokenmeter {

// A record is stored in 39 bytes: a version byte (3), first_seen_ms (8), attempts (4),
// fingerprint (8) and the head of its event row's key (kEventKeyHeadBytes): the rest of
// that key is the record's own id, not stored twice.
struct DedupRecord {
  int64_t first_seen_ms = 0;  // receive time of the first copy
  uint32_t attempts = 1;      // copies seen, the first included
  uint64_t fingerprint = 0;   // of the call's content (not receive time or key)
  std::string event_key;      // the original's row in the events family

  // Replaces `out` with the record whose event row's key is `event_key` (its head and
  // then the record's id; a record made from an event in hand need not copy its key).
  void EncodeTo(std::string& out, std::string_view event_key) const;
  // nullopt for a record of another size or version. `dedup_key` is the id the record is
  // stored under (its event key ends with it).
  static std::optional<DedupRecord> Decode(std::string_view bytes, std::string_view dedup_key);
  // Only first_seen_ms, without copying the rest (the dedup family's expiry reads it).
  static std::optional<int64_t> FirstSeenMs(std::string_view bytes);
  // Whether the id was first seen more than `window` before `at` (a copy received then
  // is a new call; the query API no longer shows it). Exactly `window` is still inside.
  bool Expired(TimePoint at, std::chrono::milliseconds window) const {
    return TimePoint(std::chrono::milliseconds(first_seen_ms)) < at - window;
  }
};

// An id of the dedup window: workspace \0 request_id (a workspace id is never empty).
std::string DedupKey(std::string_view workspace, std::string_view request_id);
void AppendDedupKey(std::string_view workspace, std::string_view request_id, std::string& out);

// The dedup family's row keys: \0, the key time (8 bytes big-endian: the time its event's
// row is keyed by, so rows are laid out by time and a flushed file never overlaps an
// earlier one), then the id; DedupIndex finds the key time of an id.
inline constexpr size_t kDedupRowHeadBytes = 9;
void AppendDedupRowKey(int64_t key_ms, std::string_view id, std::string& out);
struct DedupRowKey {
  int64_t key_ms = 0;
  std::string_view id;
};
// nullopt for a key of any other layout.
std::optional<DedupRowKey> ParseDedupRowKey(std::string_view key);
// A dedup row key built in a batch's key buffer: the range it takes and the position of
// its id among the batch's distinct ids.
struct DedupRowKeyRef {
  uint32_t id, begin, size;
  uint64_t order = 0;  // set by SortDedupRowKeys
};

// Puts `refs` (ranges of `bytes`, each the row key AppendRowKey makes for id `id`, where
// the ids are in bytewise order by position) in key order, drops repeats, and sets `views`
// to one view of `bytes` per key. A key is the id after \0 and 8 bytes of key time: key
// order is (key time, then id), sorted as integers rather than by comparing strings.
void SortDedupRowKeys(std::string_view bytes, std::vector<DedupRowKeyRef>& refs,
                      std::vector<std::string_view>& views);

// A 64-bit hash of an id (DedupIndex's slots and tags).
uint64_t DedupIdHash(std::string_view id);

// A hash of what the call was (provider, model, tokens, attribution, time, cost); equal
// for a client's retry of the same call, different for a reused id with other content.
// A defaulted event time (the client gave none) is not content: two copies without a
// time are the same call whenever each was received.
// Every content field, length-prefixed, hashed 8 bytes at a time: no copy of the event
// and no JSON on the per-event path. Stable across builds and machines (it is stored).
uint64_t Fingerprint(const UsageEvent& e);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_DEDUP_DEDUP_RECORD_H_
