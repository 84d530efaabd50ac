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

#include "tokenmeter/model/usage_event.h"

namespace tokenmeter {

// The fingerprint functions a record may carry; the record's version byte says which.
enum class FingerprintKind : uint8_t {
  kCanonicalJson = 1,  // FNV-1a over the canonical JSON (records written before kFields)
  kFields = 2,         // Fingerprint() below
};

// The bytes of an events-family key before its workspace id (`AppendEventKey`: \0,
// receive and occurred times, mode).
inline constexpr size_t kEventKeyHeadBytes = 18;

struct DedupRecord {
  int64_t first_seen_ms = 0;  // receive time of the first copy
  uint32_t attempts = 1;      // copies seen, the first included
  uint64_t fingerprint = 0;   // of the call's content (not receive time or key)
  std::string event_key;      // the original's row in the events family
  FingerprintKind kind = FingerprintKind::kFields;

  // The record with its event key in full (versions 1 and 2).
  std::string Encode() const;
  void EncodeTo(std::string& out) const { EncodeTo(out, event_key, {}); }  // replaces `out`
  // The same with `key` in place of the member `event_key` (a record made from an event
  // in hand need not copy its key), stored under `dedup_key`. When `key` is an event key
  // of the receive-time-first layout, its head and then `dedup_key` (kEventKeyHeadBytes),
  // and the fingerprint is kFields, only the head is written (version 3: 39 bytes, against
  // 25 plus the whole key): the rest is the row's own key, not stored twice.
  void EncodeTo(std::string& out, std::string_view key, std::string_view dedup_key) const;
  // nullopt for a short record or an unknown version. `dedup_key` is the key the record
  // is stored under (a version 3 record's event key ends with it).
  static std::optional<DedupRecord> Decode(std::string_view bytes, std::string_view dedup_key);
  // Only first_seen_ms, without copying the rest (the dedup family's expiry reads it).
  static std::optional<int64_t> FirstSeenMs(std::string_view bytes);
  // Whether `e` (whose Fingerprint() is `fingerprint`) is the same call as the original;
  // a record written with the older function is compared with that function.
  bool SameContent(const UsageEvent& e, uint64_t fingerprint) const;
  // Whether the id was first seen more than `window` before `at` (a copy received then
  // is a new call; the query API no longer shows it). Exactly `window` is still inside.
  bool Expired(TimePoint at, std::chrono::milliseconds window) const {
    return TimePoint(std::chrono::milliseconds(first_seen_ms)) < at - window;
  }
};

// An id of the dedup window: workspace \0 request_id (a workspace id is never empty).
std::string DedupKey(std::string_view workspace, std::string_view request_id);
void AppendDedupKey(std::string_view workspace, std::string_view request_id, std::string& out);

// The dedup family's row keys. A record is stored under \0, its key time (8 bytes
// big-endian: the time its event's row is keyed by, so rows are laid out by time and a
// flushed file never overlaps an earlier one), then its id; DedupIndex finds the key time
// of an id. Rows written before this layout are stored under the id alone (which never
// begins with \0): they are read until they expire.
inline constexpr size_t kDedupRowHeadBytes = 9;
void AppendDedupRowKey(int64_t key_ms, std::string_view id, std::string& out);
struct DedupRowKey {
  std::optional<int64_t> key_ms;  // nullopt: the older layout (the id alone)
  std::string_view id;
};
DedupRowKey ParseDedupRowKey(std::string_view key);
// A 64-bit hash of an id (DedupIndex's slots and tags).
uint64_t DedupIdHash(std::string_view id);

// A hash of what the call was (provider, model, tokens, attribution, time, cost); equal
// for a client's retry of the same call, different for a reused id with other content.
// A defaulted event time (the client gave none) is not content: two copies without a
// time are the same call whenever each was received.
// Every content field, length-prefixed, hashed 8 bytes at a time: no copy of the event
// and no JSON on the per-event path. Stable across builds and machines (it is stored).
uint64_t Fingerprint(const UsageEvent& e);
// The older function (FingerprintKind::kCanonicalJson), kept to compare retries of
// events recorded before Fingerprint() replaced it.
uint64_t CanonicalJsonFingerprint(const UsageEvent& e);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_DEDUP_DEDUP_RECORD_H_
