// Subscriber: how the processor reads the bus. Two implementations: KafkaConsumer
// (consumer group, distributed mode) and the embedded log's subscriber (serve mode).
//
// Offsets belong to the processor's state: an implementation asks `next_offset` (the
// offset stored with that partition's state) when it takes a partition and starts there,
// or at the beginning of the log when there is none. A partition whose log no longer
// starts at 0 while it has no state is reported by HistoryLost().
//
// Thread: one thread calls Poll/Seek/CommitForLag/Close; Assigned/HistoryLost/PartitionOf/
// TakenAt from any.
#ifndef TOKENMETER_BUS_SUBSCRIBER_H_
#define TOKENMETER_BUS_SUBSCRIBER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmeter/base/status.h"

namespace tokenmeter {

// One record as a subscriber hands it out, and as the processor's pipeline takes it.
struct ConsumedRecord {
  int partition = 0;
  int64_t offset = 0;
  std::string key;    // the workspace id
  std::string value;  // the edge's binary record, or canonical JSON from a direct producer
};

class Subscriber {
 public:
  using NextOffsetFn = std::function<Result<std::optional<int64_t>>(int partition)>;
  virtual ~Subscriber() = default;

  // Up to `max` records (each partition's in offset order), or fewer at `timeout`.
  virtual Result<std::vector<ConsumedRecord>> Poll(std::chrono::milliseconds timeout, size_t max) = 0;
  // Moves a partition back (after a failed batch) so its records come again.
  virtual Status Seek(int partition, int64_t offset) = 0;
  // Records the processed position, for lag monitoring only.
  virtual void CommitForLag(const std::map<int, int64_t>& next_offsets) = 0;
  virtual std::set<int> Assigned() const = 0;
  virtual std::set<int> HistoryLost() const = 0;
  // Records not yet consumed per owned partition (log end - position), as far as known.
  // Poll thread only.
  virtual std::map<int, int64_t> Lag() = 0;
  // The partition a record of this key is published to, once the topic's partition count
  // is known (the producer's partitioner). Any thread.
  virtual std::optional<int> PartitionOf(std::string_view key) = 0;
  // For each owned partition, the log's end when this subscriber was given it: the state
  // of that partition is complete (rebuilt, or caught up after a takeover) once the
  // records before it are applied. A partition without an entry had nothing to catch up.
  // Any thread.
  virtual std::map<int, int64_t> TakenAt() const { return {}; }
  virtual void Close() = 0;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_BUS_SUBSCRIBER_H_
