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
#include "tokenmeter/bus/subscriber.h"
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
  // Read every partition from its start with no consumer group (group_id is set but never
  // joined or committed to): the
  // partitions are assigned directly once the topic's metadata is known (a follower of a
  // small topic every process reads whole, like the settings log; no group join to wait for).
  bool whole_topic = false;
};

// A reader of a small topic every process reads whole from its start (whole_topic: no
// consumer group joined; `reader` names it to the brokers), fetching records as they come
// (fetch.wait.max.ms `fetch_wait_ms` unless `properties` say otherwise).
KafkaConsumerConfig WholeTopicReader(const std::string& bootstrap_servers, const std::string& topic,
                                     const std::map<std::string, std::string>& properties, const std::string& reader,
                                     int fetch_wait_ms);

class KafkaConsumer final : public Subscriber {
 public:
  static Result<std::unique_ptr<KafkaConsumer>> Create(const KafkaConsumerConfig& config,
                                                       NextOffsetFn next_offset);
  ~KafkaConsumer() override;

  Result<std::vector<ConsumedRecord>> Poll(std::chrono::milliseconds timeout, size_t max) override;
  Status Seek(int partition, int64_t offset) override;
  // Commits to the group, asynchronously and best effort.
  void CommitForLag(const std::map<int, int64_t>& next_offsets) override;
  std::set<int> Assigned() const override;
  std::set<int> HistoryLost() const override;
  // From librdkafka's cached high watermarks and the consumer's positions (no request).
  std::map<int, int64_t> Lag() override;
  // The topic's partition count is asked of the brokers once (and at every assignment).
  std::optional<int> PartitionOf(std::string_view key) override;
  // Each assigned partition's high watermark when it was assigned; -1 while the brokers
  // did not say (filled by the next Lag()).
  std::map<int, int64_t> TakenAt() const override;
  // Leaves the group cleanly.
  void Close() override;

  struct Impl;

 private:
  explicit KafkaConsumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_BUS_KAFKA_CONSUMER_H_
