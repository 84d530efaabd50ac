// EmbeddedLog: the bus of the single-process `tokenmeter serve`, a durable append-only
// file with one partition (0). A Publish() is acknowledged only after its records are
// written and fdatasync'd; concurrent publishes share one sync (group commit, on the
// log's writer thread). Record framing: [u32 length][u32 checksum][u32 key length][key]
// [value], little-endian; the length's top bit is set and the checksum (CRC-32C) covers
// what follows it. On open, a torn or corrupt tail (a write that was never acknowledged)
// is cut off; a whole record without that bit is refused (an early development format). Offsets
// are record numbers from 0. There is no retention yet: the log grows until the operator
// rotates it.
//
// A failed write (a full disk) fails its publishes and is undone; Ready() then says why
// (kNoSpace for a full disk) until a write may be tried again: once 1 MiB is free after a
// full disk, 1 s after any other failure. The next write that succeeds clears it.
//
// Thread-safe: Publish from any thread; subscribers read concurrently.
#ifndef TOKENMETER_BUS_EMBEDDED_LOG_H_
#define TOKENMETER_BUS_EMBEDDED_LOG_H_

#include <memory>
#include <string>

#include "tokenmeter/bus/publisher.h"
#include "tokenmeter/bus/subscriber.h"

namespace tokenmeter {

struct EmbeddedLogConfig {
  // Directory of the log file (created if missing). Required.
  std::string dir;
  // File name inside dir. Default events.log.
  std::string name = "events.log";
  // Records waiting to be written at most; more fail Publish with kResourceExhausted.
  // Default 100000.
  size_t max_pending_records = 100000;
  // Largest record (key and value) a Publish may hold; a larger one fails the Publish
  // with kInvalidArgument. The framing allows under 2 GiB. Default 64 MiB: a bus record
  // is one event (the edge's body limit bounds it) or one dead letter.
  size_t max_record_bytes = 64u << 20;
};

class EmbeddedLog final : public Publisher {
 public:
  static Result<std::unique_ptr<EmbeddedLog>> Open(const EmbeddedLogConfig& config);
  ~EmbeddedLog() override;

  void Publish(std::span<const BusRecord> records, Done done) override;
  // Partition 0, at the offsets the records were written at.
  void PublishPlaced(std::span<const BusRecord> records, Placed done) override;
  Status Ready() const override;
  size_t InFlight() const override;
  Status Flush(std::chrono::milliseconds timeout) override;

  // Records durably in the log (the next offset to be written).
  int64_t End() const;
  // Bytes cut off a torn tail when the log was opened (0 for a clean log).
  uint64_t RepairedBytes() const;

  // A reader of partition 0 starting at next_offset(0), or 0 without state. Fails if the
  // stored offset is beyond the log's end (the log was replaced under the state).
  Result<std::unique_ptr<Subscriber>> Subscribe(Subscriber::NextOffsetFn next_offset);

  struct Impl;

 private:
  explicit EmbeddedLog(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_BUS_EMBEDDED_LOG_H_
