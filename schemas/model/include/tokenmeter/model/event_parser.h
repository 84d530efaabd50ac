// EventParser: JSON body -> validated, normalized UsageEvents, with one error per bad
// field, indexed by event. The first stage of the edge, and the processor's re-validation
// of bus records.
//
// Two dialects:
//  * kIngest: an HTTP body, a single event object or {"events":[...]}; every event may use
//    the Opsmeter-style and the CostLynx-style field names (DESIGN.md "Ingest contract").
//  * kCanonical: one bus record in the canonical form (schemas/json/canonical-event).
// Each event is validated on its own: a bad event never rejects its neighbours. A body
// that is not parseable, too deep, or has too many events is rejected whole.
//
// Stateless apart from its borrowed, immutable inputs: one parser may serve many threads.
#ifndef TOKENMETER_MODEL_EVENT_PARSER_H_
#define TOKENMETER_MODEL_EVENT_PARSER_H_

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "tokenmeter/base/clock.h"
#include "tokenmeter/model/ingest_limits.h"
#include "tokenmeter/model/normalizer.h"
#include "tokenmeter/model/usage_event.h"

namespace tokenmeter {

enum class Dialect { kIngest, kCanonical };

// Why a whole body was rejected. kNone means: look at the per-event results.
enum class BodyError { kNone, kMalformed, kTooDeep, kTooManyEvents, kNotAnObject };

// Why ParseCanonical refused a bus record: its bytes are not a record (kMalformed: not
// JSON, not an object, a NUL byte, a binary record cut short or with unknown bits), or
// the record breaks a rule (kInvalidEvent; a JSON record nested too deep too). The
// processor's dead-letter reason follows it.
enum class RecordFault : uint8_t { kNone, kMalformed, kInvalidEvent };
struct RecordStatus {
  RecordFault fault = RecordFault::kNone;
  std::string message;  // what is wrong, naming the field
  bool ok() const { return fault == RecordFault::kNone; }
};

struct FieldError {
  size_t index = 0;    // position of the event in the request (0 for a single event)
  std::string field;   // the JSON key as sent; "" for the event as a whole
  std::string message;
  friend bool operator==(const FieldError&, const FieldError&) = default;
};

// Per-request facts the parser needs besides the body (from the authenticated key).
struct IngestContext {
  std::string_view workspace;
  std::string_view api_key_id;
  std::string_view default_project;      // from the key; "" for none
  std::string_view default_environment;  // from the key; "" means "prod"
  // Known project slugs of the workspace. Empty set = any slug is accepted.
  const std::unordered_set<std::string>* projects = nullptr;
  bool strict_projects = false;  // unknown slug: reject (true) or keep unattributed
  TimePoint received_at{};
};

struct ParsedBody {
  BodyError body_error = BodyError::kNone;
  std::string body_message;         // set with body_error
  size_t event_count = 0;           // events in the body (valid + invalid)
  std::vector<UsageEvent> events;   // valid events, in body order
  std::vector<size_t> event_index;  // events[i] came from body position event_index[i]
  std::vector<FieldError> errors;   // ordered by index
  // Events kept for the next parse into this body (ParseIngest into a reused body): their
  // strings keep their buffers. Not part of the result.
  std::vector<UsageEvent> spare;
};

class EventParser {
 public:
  EventParser(const IngestLimits& limits, const Normalizer& normalizer)
      : limits_(limits), normalizer_(normalizer) {}

  // Parses an HTTP ingest body. `body` is modified (parsed in place) and must outlive
  // nothing: results own their strings.
  ParsedBody ParseIngest(std::string& body, const IngestContext& ctx) const;
  // The same into `out`, which is reused: everything it held is replaced, but its events
  // keep their strings' buffers (an edge I/O thread parses every body into one), so the
  // strings that fit allocate nothing.
  void ParseIngest(std::string& body, const IngestContext& ctx, ParsedBody& out) const;

  // Decodes and re-validates one canonical bus record. Skew bounds are not applied (the
  // record was accepted earlier); the workspace comes from the record.
  Result<UsageEvent> ParseCanonical(std::string_view record) const;
  // The same into `out`, which must be a default-constructed event (the processor keeps
  // its batch's events and the parse buffer `scratch` between batches, so their memory is
  // reused instead of mapped anew). On an error `out` holds a partial event.
  RecordStatus ParseCanonical(std::string_view record, UsageEvent& out, std::string& scratch) const;

 private:
  const IngestLimits& limits_;
  const Normalizer& normalizer_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_MODEL_EVENT_PARSER_H_
