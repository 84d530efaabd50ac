// ProcessorService: drives the pipeline from the bus. Each RunOnce():
//   poll a batch -> per partition (several at once on a multi-core machine when the poll
//   is large): Prepare -> publish its dead letters durably -> Commit without sync -> then
//   one WAL sync -> record the positions for lag monitoring.
// The bus is a Subscriber (Kafka or the embedded log). On any failure for a partition (state, DLQ, commit) the consumer is moved back to the
// partition's stored offset, so the same records come again and nothing is skipped.
//
// Thread: one thread calls RunOnce(); everything it borrows must outlive it.
#ifndef TOKENMETER_PROCESSOR_PROCESSOR_SERVICE_H_
#define TOKENMETER_PROCESSOR_PROCESSOR_SERVICE_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "pipeline.h"
#include "tokenmeter/bus/subscriber.h"
#include "tokenmeter/bus/publisher.h"

namespace tokenmeter {

class ProcessorService {
 public:
  ProcessorService(StateStore& store, BatchPipeline& pipeline, Subscriber& consumer,
                   Publisher& dead_letters, std::string topic, size_t max_batch = 2000);
  ~ProcessorService();

  // Returns the totals of what this call applied (empty stats when nothing arrived).
  Result<BatchStats> RunOnce(std::chrono::milliseconds poll_timeout);

 private:
  using PartitionMessages = std::pair<int, std::vector<BusMessage>>;
  // Applies each partition's share of a poll (Prepare, dead letters, unsynced Commit);
  // on a multi-core machine a large poll is split between this thread and helpers
  // (partitions never share keys, and RocksDB inserts concurrent writers' batches in
  // parallel). stats[i] is filled where the result is OK.
  std::vector<Status> ApplyAll(const std::vector<PartitionMessages>& parts, std::vector<BatchStats>& stats);
  Status ApplyPartition(int partition, const std::vector<BusMessage>& messages, BatchStats& stats);
  static void AddStats(BatchStats& total, const BatchStats& s);
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

  std::vector<std::unique_ptr<Helper>> helpers_;  // grown on first need, up to 3
  StateStore& store_;
  BatchPipeline& pipeline_;
  Subscriber& consumer_;
  Publisher& dead_letters_;
  std::string topic_;
  size_t max_batch_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_PROCESSOR_SERVICE_H_
