// The processors' directory (distributed form): which processor answers for which
// partition of the events topic. Each processor publishes a claim on
// bus.kafka.processors_topic (compacted; key = the processor's URL) whenever what it owns
// changes and once a second; every processor reads the topic whole and keeps the latest
// claim of each. A processor asked about a workspace it does not own sends the question to
// the processor the directory names for the workspace's partition.
//
// Thread: ProcessorDirectory is safe from any thread.
#ifndef TOKENMETER_BUS_PROCESSOR_DIRECTORY_H_
#define TOKENMETER_BUS_PROCESSOR_DIRECTORY_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "tokenmeter/base/status.h"
#include "tokenmeter/bus/topics.h"

namespace tokenmeter {

// One processor's claim: the partitions whose state is complete (serving) and those it
// owns but is still rebuilding or catching up on after a takeover.
struct ProcessorClaim {
  std::string url;  // where its HTTP API answers, http://host:port
  std::set<int> serving;
  std::set<int> catching_up;
  int64_t at_ms = 0;  // the publisher's wall clock
  bool operator==(const ProcessorClaim&) const = default;
};

// JSON, {"format":1,...}; another format is refused.
std::string EncodeProcessorClaim(const ProcessorClaim& claim);
Result<ProcessorClaim> DecodeProcessorClaim(std::string_view value);

class ProcessorDirectory {
 public:
  // A claim counts for `live_for` after it was read, and only if its publisher's time is
  // within `live_for` and a minute of clock skew of ours (a claim read back whole at
  // start, from a processor gone for hours, is not live).
  explicit ProcessorDirectory(std::chrono::milliseconds live_for) : live_for_(live_for) {}

  // The record `value` of `key` read at steady time `read_at`; an empty value (a clean
  // stop's tombstone) removes the key's claim. A value that cannot be read is ignored.
  void Apply(const std::string& key, std::string_view value, std::chrono::steady_clock::time_point read_at);

  struct Owner {
    enum class Kind {
      kServing,     // url answers completely
      kCatchingUp,  // url owns it and is still rebuilding its state
      kNone,        // no live claim: a rebalance, or the owner is gone
      kDisputed,    // two live claims serve it (for the moment of a rebalance)
    };
    Kind kind = Kind::kNone;
    std::string url;
  };
  Owner OwnerOf(int partition, std::chrono::steady_clock::time_point now, int64_t now_ms) const;

 private:
  struct Entry {
    ProcessorClaim claim;
    std::chrono::steady_clock::time_point read_at;
  };
  const std::chrono::milliseconds live_for_;
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;  // under mu_
};

}  // namespace tokenmeter

#endif  // TOKENMETER_BUS_PROCESSOR_DIRECTORY_H_
