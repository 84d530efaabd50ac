// KafkaPublisher: the Publisher on a Kafka topic through librdkafka (C API; this adapter is
// the only place librdkafka headers appear besides the consumer adapter).
//
// Idempotent producer (enable.idempotence, hence acks=all and in-order retries without
// duplicates), lz4, partitioned by record key (murmur2, Java-compatible). Owns two threads:
// one serves delivery reports (rd_kafka_poll), one probes topic metadata once a second for
// Ready(). A fatal producer error makes Ready() false and every later Publish fail with
// kUnavailable until the process is restarted by its supervisor.
#ifndef TOKENMETER_BUS_KAFKA_PUBLISHER_H_
#define TOKENMETER_BUS_KAFKA_PUBLISHER_H_

#include <map>
#include <memory>
#include <string>

#include "tokenmeter/bus/publisher.h"
#include "tokenmeter/bus/topics.h"

namespace tokenmeter {

struct KafkaConfig {
  // Comma-separated host:port list. Required.
  std::string bootstrap_servers;
  // Topic the events are produced to. Default tokenmeter.events.
  std::string topic = kEventsTopic;
  // Compacted topic where processors publish workspace statuses and edges read them.
  // Default tokenmeter.workspace-status.
  std::string status_topic = kWorkspaceStatusTopic;
  // The settings log (keys made through the admin API; key = workspace), kept whole
  // (retention.ms -1, never compacted: it is the audit trail): edges write it, every edge
  // and processor reads it from its start. Default tokenmeter.settings.
  std::string settings_topic = kSettingsTopic;
  // Where processors publish each committed batch's record outcomes, for edges that answer
  // once their events are applied (edge.answer_after: applied). Default "": not published.
  std::string outcomes_topic;
  // Where processors publish which partitions each answers for (compacted; key = the
  // processor's URL), read whole by every processor to send a question to the one that
  // owns the workspace. Default tokenmeter.processors.
  std::string processors_topic = kProcessorsTopic;
  // Client id reported to the brokers. Default tokenmeter.
  std::string client_id = "tokenmeter";
  // How long librdkafka may try to deliver a record before failing it (message.timeout.ms).
  // Must be below the edge's request deadline so failures come back as 503, not hang.
  // Default 5000.
  int delivery_timeout_ms = 5000;
  // Batching delay (linger.ms), in milliseconds, fractions allowed. Default 0.5: a
  // single-event POST is answered after its delivery, so at 64 connections the request
  // rate is bounded by the round trip; 0.5 measured ~20% more single-event requests/s than
  // 1 and 100-event batches unchanged (benchmarks/README.md); 0 sends one produce request
  // per record and costs far more.
  double linger_ms = 0.5;
  // Producer queue bound in records (queue.buffering.max.messages); a full queue fails
  // Publish with kResourceExhausted at once. Default 200000.
  int queue_max_messages = 200000;
  // Producer queue bound in KiB (queue.buffering.max.kbytes). Default 262144 (256 MiB).
  int queue_max_kbytes = 262144;
  // Extra librdkafka properties, passed through verbatim (e.g. security.protocol).
  std::map<std::string, std::string> properties;

  Status Validate() const;
};

class KafkaPublisher final : public Publisher {
 public:
  static Result<std::unique_ptr<KafkaPublisher>> Create(const KafkaConfig& config);
  ~KafkaPublisher() override;

  void Publish(std::span<const BusRecord> records, Done done) override;
  // With each record's offset from its delivery report.
  void PublishPlaced(std::span<const BusRecord> records, Placed done) override;
  Status Ready() const override;
  size_t InFlight() const override;
  Status Flush(std::chrono::milliseconds timeout) override;

  // Makes librdkafka raise a fatal error as a broken idempotent producer would
  // (rd_kafka_test_fatal_error), so tests can drive the fatal path. Tests only.
  void RaiseFatalErrorForTesting();

  struct Impl;

 private:
  explicit KafkaPublisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_BUS_KAFKA_PUBLISHER_H_
