// Fuzz target: an HTTP ingest body through the edge's parser and validator (both dialects,
// single events and batches). Any input must give a body error or events and field errors,
// never a crash; every accepted event must encode to a bus record that decodes back to it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tokenmeter/model/event_codec.h"
#include "tokenmeter/model/event_parser.h"
#include "tokenmeter/model/normalizer.h"

using namespace tokenmeter;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const IngestLimits limits;
  static const Normalizer normalizer = *Normalizer::FromEmbeddedTable();
  static const EventParser parser(limits, normalizer);
  IngestContext ctx;
  ctx.workspace = "fuzz";
  ctx.api_key_id = "fuzzkey";
  ctx.received_at = TimePoint(std::chrono::milliseconds(1'780'000'000'000));
  std::string body(reinterpret_cast<const char*>(data), size);
  ParsedBody parsed = parser.ParseIngest(body, ctx);
  std::string record, scratch;
  for (const UsageEvent& e : parsed.events) {
    record.clear();
    EncodeBusRecord(e, record);
    UsageEvent back;
    if (!parser.ParseCanonical(record, back, scratch).ok() || !(back == e)) __builtin_trap();
  }
  return 0;
}
