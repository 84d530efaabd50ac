// Fuzz target: a bus record as the processor reads it (the edge's binary record, or
// canonical JSON from a direct producer). Any bytes must decode or be refused with a
// reason; a decoded event must survive a round trip through both encodings.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "tokenmeter/model/event_codec.h"
#include "tokenmeter/model/event_parser.h"
#include "tokenmeter/model/normalizer.h"

using namespace tokenmeter;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const IngestLimits limits;
  static const Normalizer normalizer = *Normalizer::FromEmbeddedTable();
  static const EventParser parser(limits, normalizer);
  std::string value(reinterpret_cast<const char*>(data), size), scratch;
  UsageEvent e;
  RecordStatus status = parser.ParseCanonical(value, e, scratch);
  if (!status.ok()) {
    if (status.message.empty()) __builtin_trap();  // a refusal always says why
    return 0;
  }
  for (bool binary : {true, false}) {
    std::string again;
    if (binary) EncodeBusRecord(e, again); else EncodeCanonical(e, again);
    UsageEvent back;
    RecordStatus again_status = parser.ParseCanonical(again, back, scratch);
    if (!again_status.ok() || !(back == e)) {
      std::string a, b;
      EncodeCanonical(e, a);
      if (again_status.ok()) EncodeCanonical(back, b);
      std::fprintf(stderr, "round trip (%s) differs:\n  %s\n  %s %s\n", binary ? "binary" : "json", a.c_str(),
                   b.c_str(), again_status.message.c_str());
      __builtin_trap();
    }
  }
  return 0;
}
