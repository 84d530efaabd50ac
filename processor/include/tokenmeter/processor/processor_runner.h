// ProcessorRunner: the processor as a running component, for the composition root. Owns
// the state store, price book, pipeline, Kafka consumer, dead-letter publisher, the
// consume thread, and the HTTP handler: the query API (read keys from `keys`), /healthz,
// /readyz and /metrics.
//
// Threads: Start() spawns the consume thread; Handle() runs on HTTP I/O threads; Stop()
// from the thread that owns the runner.
#ifndef TOKENMETER_PROCESSOR_PROCESSOR_RUNNER_H_
#define TOKENMETER_PROCESSOR_PROCESSOR_RUNNER_H_

#include <memory>
#include <string>

#include "tokenmeter/auth/api_key.h"
#include "tokenmeter/base/clock.h"
#include "tokenmeter/bus/kafka_consumer.h"
#include "tokenmeter/bus/kafka_publisher.h"
#include "tokenmeter/http/http_server.h"
#include "tokenmeter/model/ingest_limits.h"

namespace prometheus {
class Registry;
}

namespace tokenmeter {

struct ProcessorConfig {
  // RocksDB state directory (created if missing). Required.
  std::string state_dir;
  // Records per batch at most. Default 2000.
  int max_batch = 2000;
  // How long one poll waits for the first record, ms. Default 200.
  int poll_timeout_ms = 200;
  // Wait after a failed batch before trying again, ms. Default 500.
  int retry_backoff_ms = 500;
  // Topic rejected records go to. Default tokenmeter.events.dlq.
  std::string dlq_topic = "tokenmeter.events.dlq";
  // Consumer group. Default tokenmeter-processor.
  std::string group_id = "tokenmeter-processor";

  Status Validate() const;
};

class ProcessorRunner final : public HttpHandler {
 public:
  // `kafka` gives the brokers, the events topic and extra properties (shared with the edge).
  static Result<std::unique_ptr<ProcessorRunner>> Create(const ProcessorConfig& config,
                                                         const KafkaConfig& kafka,
                                                         const IngestLimits& limits,
                                                         const KeyRing& keys, const Clock& clock,
                                                         prometheus::Registry& registry);
  ~ProcessorRunner() override;

  void Start();
  // Finishes the batch in hand, leaves the consumer group, flushes the DLQ producer.
  void Stop();

  void Handle(HttpRequest request, Respond respond) override;

  struct Impl;

 private:
  explicit ProcessorRunner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_PROCESSOR_RUNNER_H_
