// The binary bus record's decoder (its encoder is EncodeBusRecord, event_codec.h; both in
// event_codec.cc): the same rules as the JSON form's validation, on fields that arrive
// typed. Internal to tm_model (EventParser::ParseCanonical). Any thread.
#ifndef TOKENMETER_MODEL_SRC_BINARY_RECORD_H_
#define TOKENMETER_MODEL_SRC_BINARY_RECORD_H_

#include <string_view>

#include "tokenmeter/model/event_parser.h"

namespace tokenmeter {

// `record` starts with kBusRecordTag. Fills `out` (on an error it holds a partial event).
RecordStatus ParseBinaryRecord(std::string_view record, const IngestLimits& limits,
                               const Normalizer& normalizer, UsageEvent& out);

}  // namespace tokenmeter

#endif  // TOKENMETER_MODEL_SRC_BINARY_RECORD_H_
