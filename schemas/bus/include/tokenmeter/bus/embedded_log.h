// EmbeddedLog: the bus of the single-process `tokenmeter serve`, a durable append-only
// log with one partition (0). A Publish() is acknowledged only after its records are
// written and fdatasync'd; concurrent publishes share one sync (group commit, on the
// log's writer thread). Record framing: [u32 length][u32 checksum][u32 key length][key]
// [value], little-endian; the length's top bit is set and the checksum (CRC-32C) covers
// what follows it. Offsets are record numbers from 0.
//
// The log is a series of segment files, `<stem>.<offset of its first record, 20
// digits>.log` (stem: the name without ".log"); once the one being written holds
// `segment_bytes`, the next batch starts a new one. Retention drops whole segments, the
// oldest first, when a new one starts: those whose last write is older than `retention`
// and, with `keep_unapplied`, whose every record the subscriber has reported applied
// (CommitForLag: durable in its state), so the state never needs a dropped record. On
// open, a torn or corrupt tail of the newest segment (a write that was never
// acknowledged) is cut off; damage anywhere else, a gap between segments, a whole record
// without the checksum bit or the single-file layout of early builds is refused.
//
// A failed write (a full disk) fails its publishes and is undone; Ready() then says why
// (kNoSpace for a full disk) until a write may be tried again: once 1 MiB is free after a
// full disk, 1 s after any other failure. The next write that succeeds clears it.
//
// Thread-safe: Publish from any thread; subscribers read concurrently.
#ifndef TOKENMETER_BUS_EMBEDDED_LOG_H_
#define TOKENMETER_BUS_EMBEDDED_LOG_H_

#include <chrono>
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
  // A segment is closed once it holds this many bytes. Default 64 MiB.
  uint64_t segment_bytes = 64u << 20;
  // Segments last written longer ago than this are dropped (0: never). Default 0.
  std::chrono::milliseconds retention{0};
  // Keep a segment until its every record is applied (the events log); false for a log
  // nobody consumes (the dead letters). Default true.
  bool keep_unapplied = true;
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
  // The offset of the oldest record kept (retention drops from the start).
  int64_t First() const;
  // Bytes of records in its segments.
  uint64_t DiskBytes() const;
  // Bytes cut off a torn tail when the log was opened (0 for a clean log).
  uint64_t RepairedBytes() const;

  // A reader of partition 0 starting at next_offset(0), or 0 without state. Fails if the
  // stored offset is beyond the log's end (the log was replaced under the state); starts
  // at First() and reports HistoryLost() when the state needs records retention dropped.
  Result<std::unique_ptr<Subscriber>> Subscribe(Subscriber::NextOffsetFn next_offset);

  struct Impl;

 private:
  explicit EmbeddedLog(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_BUS_EMBEDDED_LOG_H_
