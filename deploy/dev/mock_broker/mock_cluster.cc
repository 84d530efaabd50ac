#include "mock_cluster.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <optional>
#include <sstream>

namespace tokenmeter {
namespace {

Status Check(rd_kafka_resp_err_t err, const std::string& what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::Ok();
  return InvalidArgument(what + ": " + rd_kafka_err2str(err));
}

}  // namespace

Result<std::unique_ptr<MockCluster>> MockCluster::Create(int brokers,
                                                         const std::vector<MockTopic>& topics) {
  std::unique_ptr<MockCluster> c(new MockCluster());
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "2", err, sizeof(err));
  c->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (!c->rk_) return Unavailable(std::string("mock host handle: ") + err);
  c->mc_ = rd_kafka_mock_cluster_new(c->rk_, brokers);
  if (!c->mc_) return Unavailable("cannot create the mock cluster");
  c->brokers_ = brokers;
  c->bootstraps_ = rd_kafka_mock_cluster_bootstraps(c->mc_);
  for (const MockTopic& t : topics) RETURN_IF_ERROR(c->CreateTopic(t));
  return c;
}

MockCluster::~MockCluster() {
  if (mc_) rd_kafka_mock_cluster_destroy(mc_);
  if (rk_) rd_kafka_destroy(rk_);
}

Status MockCluster::CreateTopic(const MockTopic& t) {
  int replication = brokers_ < 3 ? brokers_ : 3;
  return Check(rd_kafka_mock_topic_create(mc_, t.name.c_str(), t.partitions, replication),
               "create topic " + t.name);
}

Status MockCluster::SetDown(int id) { return Check(rd_kafka_mock_broker_set_down(mc_, id), "down"); }
Status MockCluster::SetUp(int id) { return Check(rd_kafka_mock_broker_set_up(mc_, id), "up"); }
Status MockCluster::SetRtt(int id, int ms) {
  return Check(rd_kafka_mock_broker_set_rtt(mc_, id, ms), "rtt");
}

void MockCluster::PushRequestErrors(KafkaApi api, const std::vector<int>& errors) {
  std::vector<rd_kafka_resp_err_t> e;
  for (int x : errors) e.push_back(static_cast<rd_kafka_resp_err_t>(x));
  rd_kafka_mock_push_request_errors_array(mc_, static_cast<int16_t>(api), e.size(), e.data());
}

Status MockCluster::PushBrokerErrorRtts(int broker_id, KafkaApi api,
                                        const std::vector<std::pair<int, int>>& errs) {
  // The C API is variadic; push one (error, rtt) pair per call, in order.
  for (const auto& [err, rtt] : errs) {
    RETURN_IF_ERROR(Check(rd_kafka_mock_broker_push_request_error_rtts(
                              mc_, broker_id, static_cast<int16_t>(api), 1,
                              static_cast<rd_kafka_resp_err_t>(err), rtt),
                          "errrtt"));
  }
  return Status::Ok();
}

void MockCluster::ClearRequestErrors(KafkaApi api) {
  rd_kafka_mock_clear_request_errors(mc_, static_cast<int16_t>(api));
}

Status MockCluster::SetLeader(const std::string& topic, int partition, int broker_id) {
  return Check(rd_kafka_mock_partition_set_leader(mc_, topic.c_str(), partition, broker_id),
               "leader");
}

std::optional<int> MockCluster::ErrorCode(const std::string& name) {
  try {
    size_t used = 0;
    int v = std::stoi(name, &used);
    if (used == name.size()) return v;
  } catch (const std::exception&) {
  }
  const rd_kafka_err_desc* descs;
  size_t n;
  rd_kafka_get_err_descs(&descs, &n);
  std::string want = name.rfind("ERR_", 0) == 0 ? name.substr(4) : name;
  for (size_t i = 0; i < n; ++i) {
    if (descs[i].name && want == descs[i].name) return descs[i].code;
  }
  return std::nullopt;
}

std::string MockCluster::Execute(const std::string& line) {
  std::istringstream in(line);
  std::string cmd;
  in >> cmd;
  auto result = [](const Status& s) { return s.ok() ? std::string("ok") : "error " + s.message(); };
  if (cmd == "down" || cmd == "up") {
    int id = -1;
    in >> id;
    return result(cmd == "down" ? SetDown(id) : SetUp(id));
  }
  if (cmd == "rtt") {
    int id = -1, ms = 0;
    if (!(in >> id >> ms)) return "error usage: rtt <broker|-1> <ms>";
    return result(SetRtt(id, ms));
  }
  if (cmd == "err") {
    int api = 0, count = 0;
    std::string name;
    if (!(in >> api >> count >> name)) return "error usage: err <apikey> <count> <ERROR>";
    auto code = ErrorCode(name);
    if (!code) return "error unknown error name " + name;
    PushRequestErrors(static_cast<KafkaApi>(api), std::vector<int>(count, *code));
    return "ok";
  }
  if (cmd == "errrtt") {
    int broker = 0, api = 0;
    if (!(in >> broker >> api)) return "error usage: errrtt <broker> <apikey> <ERROR>:<ms>...";
    std::vector<std::pair<int, int>> pairs;
    std::string item;
    while (in >> item) {
      size_t colon = item.find(':');
      auto code = ErrorCode(item.substr(0, colon));
      if (!code || colon == std::string::npos) return "error bad item " + item;
      pairs.emplace_back(*code, std::stoi(item.substr(colon + 1)));
    }
    return result(PushBrokerErrorRtts(broker, static_cast<KafkaApi>(api), pairs));
  }
  if (cmd == "clear") {
    int api = 0;
    if (!(in >> api)) return "error usage: clear <apikey>";
    ClearRequestErrors(static_cast<KafkaApi>(api));
    return "ok";
  }
  if (cmd == "leader") {
    std::string topic;
    int p = 0, id = 0;
    if (!(in >> topic >> p >> id)) return "error usage: leader <topic> <partition> <broker>";
    return result(SetLeader(topic, p, id));
  }
  if (cmd == "topic") {
    std::string topic;
    int p = 1;
    if (!(in >> topic >> p)) return "error usage: topic <name> <partitions>";
    return result(CreateTopic({topic, p}));
  }
  return "error unknown command " + cmd;
}

}  // namespace tokenmeter
