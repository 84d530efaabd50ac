// Fuzz target: the processor's stored rows as read back from RocksDB (a dedup record, a
// rollup row's counters, an event row shown by GET /v1/events): damaged bytes must be
// refused or read, never crash or read out of bounds. The first byte picks the reader.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "aggregate/rollup.h"
#include "dedup/dedup_record.h"
#include "events/stored_event.h"

using namespace tokenmeter;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: (void)DedupRecord::Decode(bytes, std::string_view("acme\0r-1", 8)); break;
    case 1: (void)RollupCounters::Decode(bytes); break;
    case 2: (void)StoredEventToJson(bytes); break;
    case 3: (void)ParseDedupRowKey(bytes); (void)EventKeyTime(bytes); break;
  }
  return 0;
}
