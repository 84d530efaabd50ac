// The canonical JSON encoding of a UsageEvent on the bus (schemas/json/
// canonical-event.schema.json). Decoding goes through EventParser::ParseCanonical so the
// processor applies the same rules as the edge. Thread-safe free function.
#ifndef TOKENMETER_MODEL_EVENT_CODEC_H_
#define TOKENMETER_MODEL_EVENT_CODEC_H_

#include <string>

#include "tokenmeter/model/usage_event.h"

namespace tokenmeter {

inline constexpr int kCanonicalSchemaVersion = 1;

// Appends the canonical JSON of `event` to `out`.
void EncodeCanonical(const UsageEvent& event, std::string& out);

}  // namespace tokenmeter

#endif  // TOKENMETER_MODEL_EVENT_CODEC_H_
