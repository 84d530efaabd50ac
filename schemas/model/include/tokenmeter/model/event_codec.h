// The encodings of a UsageEvent on the bus, and the compact field layout it shares with
// the processor's stored event row. Thread-safe free functions.
//
// Two forms of a bus record, told apart by the first byte:
//  * canonical JSON (schemas/json/canonical-event.schema.json), starting with '{': what
//    producers that write to the topic directly send;
//  * the binary record, starting with kBusRecordTag: what the edge sends. The same fields
//    in the compact layout below; about a third of the bytes, and it decodes without a
//    JSON parse (the processor's parse and validation of the JSON form were ~15k
//    instructions an event, a fifth of the pipeline's work).
// Decoding goes through EventParser::ParseCanonical for both, so the processor applies
// the same rules as the edge.
#ifndef TOKENMETER_MODEL_EVENT_CODEC_H_
#define TOKENMETER_MODEL_EVENT_CODEC_H_

#include <cstdint>
#include <string>

#include "tokenmeter/base/varint.h"
#include "tokenmeter/model/usage_event.h"

namespace tokenmeter {

inline constexpr int kCanonicalSchemaVersion = 1;

// The first byte of a binary bus record (format 1). 0xC1 never occurs in UTF-8 text, so
// no JSON record starts with it.
inline constexpr unsigned char kBusRecordTag = 0xC1;

// Appends the canonical JSON of `event` to `out`.
void EncodeCanonical(const UsageEvent& event, std::string& out);

// Appends the binary bus record of `event` to `out`: kBusRecordTag, then the event fields.
void EncodeBusRecord(const UsageEvent& event, std::string& out);

// ---- The event field layout ------------------------------------------------------------
// In order: the 13 texts (workspace, request_id, provider, model, model_raw, endpoint_tag,
// prompt_version, project, project_raw, environment, user_id, tenant_id, api_key_id),
// length-prefixed; data_mode (a byte); input, output, cached, cache_write,
// cache_write_1h and reasoning tokens (varints); a byte of EventFieldBits; then, when
// their bit is set, total_tokens, latency_ms (varints), status (a byte) and
// estimated_cost (signed nano-USD); occurred_at and received_at (signed ms since the
// epoch; equal when kOccurredAtDefaulted); warnings (a varint).
enum EventFieldBits : uint8_t {
  kHasTotalTokens = 1,
  kHasLatency = 2,
  kHasStatus = 4,
  kHasEstimatedCost = 8,
  kOccurredAtDefaulted = 16,  // UsageEvent::occurred_at_defaulted
  kEventFieldBits = 31,       // the bits above; a container may use the others
};

// The most bytes PutEventFields writes for `event`.
size_t EventFieldsBound(const UsageEvent& event);
// Writes the fields of `event` at `p` with `extra_bits` (outside kEventFieldBits) or'ed
// into the bits byte; returns the position after them.
char* PutEventFields(char* p, const UsageEvent& event, uint8_t extra_bits);

// The fields as read, before any check: texts are views into the reader's bytes; enum
// bytes and the bits byte are raw.
struct EventFieldViews {
  std::string_view workspace, request_id, provider, model, model_raw, endpoint_tag, prompt_version,
      project, project_raw, environment, user_id, tenant_id, api_key_id;
  uint8_t data_mode = 0;
  TokenCount input_tokens = 0, output_tokens = 0, cached_tokens = 0, cache_write_tokens = 0,
             cache_write_1h_tokens = 0, reasoning_tokens = 0, total_tokens = 0;
  uint64_t latency_ms = 0;
  uint8_t status = 0;
  int64_t estimated_cost_nano = 0;
  int64_t occurred_at_ms = 0, received_at_ms = 0;
  uint64_t warnings = 0;
  uint8_t bits = 0;
};
// Reads what PutEventFields wrote; `r.ok()` tells whether the bytes held it all.
void ReadEventFields(VarintReader& r, EventFieldViews& out);
// Copies `v` into `e` as it is (enum bytes cast, optionals from the bits), reusing the
// capacity of e's strings. The caller checks the values first.
void AssignEventFields(const EventFieldViews& v, UsageEvent& e);

}  // namespace tokenmeter

#endif  // TOKENMETER_MODEL_EVENT_CODEC_H_
