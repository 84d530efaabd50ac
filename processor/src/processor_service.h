// ProcessorService: drives the pipeline from the bus. Each RunOnce():
//   poll a batch -> per partition (several at once on a multi-core machine when the poll
//   is large): Prepare -> publish its dead letters durably -> Commit without sync -> hand
//   the positions to the WalSyncer, which makes them durable on its own thread while the
//   next batch is applied; the next RunOnce first records the positions it has synced,
//   for lag monitoring.
// The bus is a Subscriber (Kafka or the embedded log). On any failure for a partition
// (state, DLQ, commit) the consumer is moved back to the partition's stored offset, so the
// same records come again and nothing is skipped.
//
// Thread: one thread calls RunOnce(); everything it borrows must outlive it.
#ifndef TOKENMETER_PROCESSOR_PROCESSOR_SERVICE_H_
#define TOKENMETER_PROCESSOR_PROCESSOR_SERVICE_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "pipeline.h"
#include "state/wal_syncer.h"
#include "tokenmeter/bus/publisher.h"
#include "tokenmeter/bus/subscriber.h"

namespace tokenmeter {

class ProcessorService {
 public:
  // `read_ahead` (for a single-partition bus without rebalances: the embedded log): while
  // a large batch's in-order steps run, the records that have arrived since are polled
  // and decoded on a helper thread, and applied by the next RunOnce. A failed batch drops
  // them (the seek back brings them again).
  // `wal_sync` replaces the store's own WAL sync (tests drive a failing one).
  ProcessorService(StateStore& store, BatchPipeline& pipeline, Subscriber& consumer,
                   Publisher& dead_letters, std::string topic, size_t max_batch = 2000,
                   bool read_ahead = false, std::function<Status()> wal_sync = nullptr);
  ~ProcessorService();

  // Returns the totals of what this call applied (empty stats when nothing arrived). A
  // WAL sync that failed since the last call fails this one before it reads anything.
  Result<BatchStats> RunOnce(std::chrono::milliseconds poll_timeout);
  // Records not yet applied per owned partition: the bus's lag plus what was read ahead.
  // The RunOnce thread only.
  std::map<int, int64_t> Lag();

 private:
  using PartitionMessages = std::pair<int, std::vector<ConsumedRecord>>;
  // Below this many records a helper thread costs more than it saves.
  static constexpr size_t kParallelFrom = 1000;
  // Syncs of the state's WAL start at least this far apart. Nothing but lag reporting
  // waits on them (the bus replays whatever a power loss takes from the WAL's tail), and
  // each is a flush of the WAL file and its metadata: in serve at 100k events/s one per
  // batch cost the syncer 0.35-0.66 s of CPU every 10 s, against ~0.1 s spaced out.
  static constexpr std::chrono::milliseconds kWalSyncEvery{100};
  Result<std::vector<PartitionMessages>> PollParts(std::chrono::milliseconds timeout);
  // Applies each partition's share of a poll (Prepare, dead letters, unsynced Commit);
  // on a multi-core machine a large poll is split between this thread and helpers
  // (partitions never share keys, and RocksDB inserts concurrent writers' batches in
  // parallel); a large poll of one partition shares each record's own work with a
  // helper (BatchPipeline::Prepare's `split`). stats[i] is filled where the result is OK.
  std::vector<Status> ApplyAll(const std::vector<PartitionMessages>& parts, std::vector<BatchStats>& stats);
  // One partition's poll with read-ahead (see the constructor); `decoded`: its records
  // are in decoded_[0] already.
  Status ApplyReadingAhead(const PartitionMessages& part, bool decoded, BatchStats& stats);
  // A partition's prepared batch: its dead letters published, then committed unsynced.
  Status ApplyPrepared(Result<PreparedBatch> prepared, BatchStats& stats);
  // A partition's records with command records among them (rare): the events between
  // them as batches of their own, each command alone (BatchPipeline::PrepareCommand), in
  // offset order, each committed before the next is prepared.
  Status ApplyAroundCommands(int partition, const std::vector<ConsumedRecord>& messages, BatchStats& stats);
  static void AddStats(BatchStats& total, BatchStats& s);  // moves s.applied
  Status PublishDeadLetters(const std::vector<DeadLetter>& letters);

  // A helper thread kept for the service's life: a thread started per poll costs its
  // creation, a fresh stack and thread-local setup in RocksDB every time.
  class Helper {
   public:
    Helper();
    ~Helper();
    void Start(std::function<void()> task);  // the previous task must have been waited for
    void Wait();

   private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::function<void()> task_;  // under mu_; empty when idle
    bool stop_ = false;
    std::thread thread_;
  };

  Helper& HelperAt(size_t i);  // started on first need

  std::vector<std::unique_ptr<Helper>> helpers_;  // up to 3
  StateStore& store_;
  BatchPipeline& pipeline_;
  Subscriber& consumer_;
  Publisher& dead_letters_;
  std::string topic_;
  size_t max_batch_;
  bool read_ahead_;
  SplitRunner split_;  // on helper 0
  // Read-ahead: the batch being applied in decoded_[0], the next one decoded into
  // decoded_[1] meanwhile, then swapped.
  BatchPipeline::DecodedBatch decoded_[2];
  struct Ahead {
    std::vector<PartitionMessages> parts;
    bool decoded = false;  // parts[0] is in decoded_[0]
  };
  std::optional<Ahead> ahead_;  // polled, not yet applied
  WalSyncer syncer_;            // last: stopped (after a final sync) before the rest goes
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_PROCESSOR_SERVICE_H_
