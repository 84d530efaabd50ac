// Publisher: how the edge hands events to the bus. Two implementations: Kafka
// (kafka_publisher.h, distributed mode) and the embedded durable log (serve mode). The
// edge does not know which one it has.
//
// Contract: Publish() never blocks on the network. `done` is called exactly once, from a
// bus thread or synchronously inside Publish(), with OK only when every record of the call
// is durable on the bus (Kafka: acks=all delivery report). A non-OK status is retryable
// when status.retryable(): some records may still have become durable (a timed-out
// produce may land), which the processor's dedup makes harmless on the client's retry.
// The records are copied before Publish() returns: the caller may reuse them at once (an
// edge I/O thread encodes every request's records into the same ones).
#ifndef TOKENMETER_BUS_PUBLISHER_H_
#define TOKENMETER_BUS_PUBLISHER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tokenmeter/base/status.h"

namespace tokenmeter {

// One record: key = workspace id (orders a workspace's events), value = the event as a
// binary bus record (event_codec.h) or, for other producers, canonical JSON.
struct BusRecord {
  std::string key;
  std::string value;
};

class Publisher {
 public:
  using Done = std::function<void(Status)>;
  // With where the records landed when OK: record i at offsets[i] of `partition` (the
  // records of one call share a key, hence a partition); empty when the bus cannot say.
  using Placed = std::function<void(Status, int partition, std::span<const int64_t> offsets)>;
  virtual ~Publisher() = default;

  // Any thread.
  virtual void Publish(std::span<const BusRecord> records, Done done) = 0;
  // The same, saying where (a bus that cannot say answers no offsets).
  virtual void PublishPlaced(std::span<const BusRecord> records, Placed done) {
    Publish(records, [done = std::move(done)](Status s) { done(std::move(s), 0, {}); });
  }
  // OK while the bus can take records durably; otherwise why not: kUnavailable (brokers
  // unreachable, a fatal producer error, a failed write) or kNoSpace (the disk under the
  // embedded log is full). The edge answers ingest and /readyz with it. Any thread.
  virtual Status Ready() const = 0;
  // Records handed to Publish and not yet acknowledged or failed. Any thread.
  virtual size_t InFlight() const = 0;
  // Waits until every in-flight record is acknowledged or failed (shutdown).
  virtual Status Flush(std::chrono::milliseconds timeout) = 0;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_BUS_PUBLISHER_H_
