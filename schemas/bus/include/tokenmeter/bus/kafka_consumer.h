// KafkaConsumer: the processor's side of the bus (librdkafka C API, consumer group).
//
// Offsets belong to the processor's state, not to Kafka: on every partition assignment
// the consumer asks `next_offset(partition)` (the offset stored in RocksDB with the state
// it covers) and starts there. A partition with no stored offset starts at the beginning
// of the log, so its state is rebuilt; if the log no longer starts at offset 0 (history
// removed by retention), that partition is reported in HistoryLost() instead of silently
// serving partial totals. Kafka's committed offsets are written only for lag monitoring.
//
// Thread: one thread calls Poll/Seek/CommitForLag; rebalance callbacks run inside Poll.
#ifndef TOKENMETER_BUS_KAFKA_CONSUMER_H_
#define TOKENMETER_BUS_KAFKA_CONSUMER_H_

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tokenmeter/base/status.h"
#include "tokenmeter/bus/topics.h"

namespace tokenmeter {

struct KafkaConsumerConfig {
  // Comma-separated brokers. Required.
  std::string bootstrap_servers;
  // Topic consumed. Default tokenmeter.events.
  std::string topic = kEventsTopic;
  // Consumer group; processors sharing it split the partitions. Default tokenmeter-processor.
  std::string group_id = "tokenmeter-processor";
  // Extra librdkafka properties, verbatim.
  std::map<std::string, std::string> properties;
};

struct ConsumedRecord {
  int partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
};

class KafkaConsumer {
 public:
  using NextOffsetFn = std::function<Result<std::optional<int64_t>>(int partition)>;

  static Result<std::unique_ptr<KafkaConsumer>> Create(const KafkaConsumerConfig& config,
                                                       NextOffsetFn next_offset);
  ~KafkaConsumer();

  // Returns up to `max` records (each partition's in offset order) or fewer at `timeout`.
  Result<std::vector<ConsumedRecord>> Poll(std::chrono::milliseconds timeout, size_t max);
  // Moves a partition's position back (after a failed batch) so its records come again.
  Status Seek(int partition, int64_t offset);
  // Records the processed position in the group, for lag metrics only.
  void CommitForLag(const std::map<int, int64_t>& next_offsets);
  std::set<int> Assigned() const;
  // Partitions assigned without stored state whose log no longer starts at 0.
  std::set<int> HistoryLost() const;
  // Closes the group membership cleanly (leave group).
  void Close();

  struct Impl;

 private:
  explicit KafkaConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_BUS_KAFKA_CONSUMER_H_
