// MockCluster: librdkafka's mock Kafka cluster (a real Kafka-protocol broker set on
// loopback, in this process) with its topics created and fault injection by name.
// Used by the tokenmeter-mock-broker dev tool and by integration tests. Not for
// production. The mock keeps only about 5 MiB and a bounded number of batches per
// partition before it drops the oldest: size test data to fit.
// Thread-safe: librdkafka serializes the mock's control calls.
#ifndef TOKENMETER_DEV_MOCK_CLUSTER_H_
#define TOKENMETER_DEV_MOCK_CLUSTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tokenmeter/base/status.h"

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;

namespace tokenmeter {

// Kafka protocol API keys (rdkafka_proto.h is internal, so named here).
enum class KafkaApi : int16_t {
  kProduce = 0, kFetch = 1, kListOffsets = 2, kMetadata = 3, kOffsetCommit = 8,
  kOffsetFetch = 9, kFindCoordinator = 10, kJoinGroup = 11, kHeartbeat = 12,
  kLeaveGroup = 13, kSyncGroup = 14, kInitProducerId = 22,
};

struct MockTopic {
  std::string name;
  int partitions = 1;
};

class MockCluster {
 public:
  static Result<std::unique_ptr<MockCluster>> Create(int brokers,
                                                     const std::vector<MockTopic>& topics);
  ~MockCluster();

  const std::string& bootstrap_servers() const { return bootstraps_; }
  int brokers() const { return brokers_; }

  // broker_id -1 = every broker. Broker ids are 1..brokers().
  Status SetDown(int broker_id);
  Status SetUp(int broker_id);
  Status SetRtt(int broker_id, int rtt_ms);
  // The next `errors.size()` requests of `api` (cluster-wide) fail with these codes.
  void PushRequestErrors(KafkaApi api, const std::vector<int>& errors);
  // The next requests of `api` to `broker_id` answer with (error, delay) each.
  Status PushBrokerErrorRtts(int broker_id, KafkaApi api,
                             const std::vector<std::pair<int, int>>& errors_rtts);
  void ClearRequestErrors(KafkaApi api);
  Status SetLeader(const std::string& topic, int partition, int broker_id);
  Status CreateTopic(const MockTopic& topic);

  // Kafka error code for a name like "NOT_LEADER_FOR_PARTITION" or "_TRANSPORT", or a
  // number; nullopt if unknown.
  static std::optional<int> ErrorCode(const std::string& name);

  // Executes one text command (see tokenmeter-mock-broker --help). Returns "ok" or an error.
  std::string Execute(const std::string& line);

 private:
  MockCluster() = default;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* mc_ = nullptr;
  std::string bootstraps_;
  int brokers_ = 0;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_DEV_MOCK_CLUSTER_H_
