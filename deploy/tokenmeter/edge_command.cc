#include <prometheus/registry.h>
#include <unistd.h>

#include <charconv>
#include <random>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "command_args.h"
#include "commands.h"
#include "config_file.h"
#include "settings_bus.h"
#include "signals.h"
#include "tokenmeter/base/log.h"
#include "tokenmeter/bus/kafka_publisher.h"
#include "tokenmeter/bus/kafka_consumer.h"
#include "tokenmeter/edge/edge_service.h"
#include "tokenmeter/edge/topic_follower.h"
#include "tokenmeter/model/workspace_status.h"
#include "tokenmeter/http/http_server.h"
#include "tokenmeter/http/path_router.h"
#include "tokenmeter/settings/admin_api.h"
#include "tokenmeter/settings/settings_gate.h"

namespace tokenmeter {
namespace {

constexpr const char* kEdgeUsage =
    "Usage: tokenmeter edge --config FILE [--port-file FILE]\n"
    "\n"
    "Runs the ingest edge: authenticates, validates and publishes usage events to Kafka,\n"
    "answering 202 only after Kafka has them durably (edge.answer_after: applied: once a\n"
    "processor has applied them). Serves /healthz, /readyz, /metrics.\n"
    "SIGTERM or SIGINT: stop accepting, finish in-flight requests, flush, exit 0.\n"
    "\n"
    "  --config FILE     the YAML config (see README \"Configuration\")\n"
    "  --port-file FILE  write the bound port here once listening (for listen port 0)\n";


}  // namespace

int RunEdge(const std::vector<std::string>& args) {
  CommandStart start = StartCommand(args, "edge", kEdgeUsage);
  if (start.exit_code) return *start.exit_code;
  const CommandArgs& cmd = start.args;
  const AppConfig& config = start.config;
  KeyRing& keys = *start.keys;
  Result<Normalizer> normalizer = Normalizer::FromEmbeddedTable();
  if (!normalizer.ok()) return StartupFailed("edge", normalizer.status());
  const bool applied = config.edge.answer_after == EdgeConfig::AnswerAfter::kApplied;
  if (applied && config.kafka.outcomes_topic.empty()) {
    return StartupFailed("edge", InvalidArgument("edge.answer_after: applied needs bus.kafka.outcomes_topic (where "
                                                 "the processors publish what they applied)"));
  }
  auto publisher = KafkaPublisher::Create(config.kafka);
  if (!publisher.ok()) return StartupFailed("edge", publisher.status());

  // The settings topic: written by the admin API, read whole before the port opens.
  auto settings_publisher = SettingsPublisher(config.kafka);
  if (!settings_publisher.ok()) return StartupFailed("edge", settings_publisher.status());
  // The processors' pricing rules, so the edge decides a pricing change as they do.
  auto pricing = PricingRules::Make(config.processor.price_overrides, config.processor.model_aliases);
  if (!pricing.ok()) return StartupFailed("edge", pricing.status());
  std::unique_ptr<LiveSettings> live = ConfigSettings(config, keys, *pricing, *normalizer);
  LiveSettings& settings = *live;
  auto settings_follower = FollowKafkaSettings(config.kafka, settings);
  if (!settings_follower.ok()) return StartupFailed("edge", settings_follower.status());

  SystemClock clock;
  prometheus::Registry registry;
  EdgeService edge(config.edge, keys, *normalizer, **publisher, clock, registry);
  edge.AttachProjects(LiveProjects(settings));
  AdminApi admin(settings, keys, **settings_publisher, clock);
  // Every edge reads the whole status topic: a consumer group of its own, from the start.
  KafkaConsumerConfig status_cc;
  status_cc.bootstrap_servers = config.kafka.bootstrap_servers;
  status_cc.topic = config.kafka.status_topic;
  status_cc.group_id = "tokenmeter-edge-status-" + std::to_string(getpid()) + "-" +
                       std::to_string(std::random_device{}());
  status_cc.properties = config.kafka.properties;
  auto status_consumer = KafkaConsumer::Create(status_cc, [](int) { return Result<std::optional<int64_t>>(std::nullopt); });
  if (!status_consumer.ok()) return StartupFailed("edge", status_consumer.status());
  TopicFollower statuses(std::move(*status_consumer), "status", [&edge](const ConsumedRecord& r) {
    std::optional<WorkspaceStatus> s = DecodeWorkspaceStatus(r.value);
    if (s) edge.SetWorkspaceStatus(r.key, *s);
    return s.has_value();
  });
  statuses.Start();
  // Applied mode: the processors' outcomes, read from the topic's end by a consumer group
  // of this edge's own.
  RecordOutcomes outcomes;
  std::unique_ptr<TopicFollower> outcomes_follower;
  if (applied) {
    KafkaConsumerConfig occ = status_cc;
    occ.topic = config.kafka.outcomes_topic;
    occ.group_id = "tokenmeter-edge-outcomes-" + std::to_string(getpid()) + "-" + std::to_string(std::random_device{}());
    occ.properties["auto.offset.reset"] = "latest";
    // An answer waits on these records: fetch them as they come, not after the broker's
    // default 500 ms of waiting for more.
    occ.properties.try_emplace("fetch.wait.max.ms", "5");
    auto outcomes_consumer =
        KafkaConsumer::Create(occ, [](int) { return Result<std::optional<int64_t>>(std::nullopt); });
    if (!outcomes_consumer.ok()) return StartupFailed("edge", outcomes_consumer.status());
    // Key: the events partition; value: EncodeAppliedRecords.
    outcomes_follower = std::make_unique<TopicFollower>(
        std::move(*outcomes_consumer), "outcomes", [&outcomes](const ConsumedRecord& r) {
          int partition = -1;
          auto [end, ec] = std::from_chars(r.key.data(), r.key.data() + r.key.size(), partition);
          auto applied = DecodeAppliedRecords(r.value);
          if (ec != std::errc() || end != r.key.data() + r.key.size() || !applied) return false;
          outcomes.Applied(partition, applied->first, applied->second);
          return true;
        });
    outcomes_follower->Start();
    TopicFollower* follower = outcomes_follower.get();
    edge.AttachOutcomes(&outcomes, [follower] { return follower->Following(); });
  }
  HttpServerConfig http = config.http;
  http.error_members = EdgeService::ServerErrorMembers();
  PathRouter router({{AdminApi::kPrefix, &admin}}, edge);
  SettingsGate gate(**settings_follower, router);  // 503 settings_loading until the log is read
  HttpServer server(http, gate);
  edge.AttachServer(&server);
  if (Status s = server.Start(); !s.ok()) return StartupFailed("edge", s);
  std::string port = std::to_string(server.port());
  cmd.WritePort(server.port());
  Log(LogLevel::kInfo, "edge", "listening",
      {{"address", config.http.address}, {"port", port}, {"topic", config.kafka.topic},
       {"keys", std::to_string(keys.size())}});

  Log(LogLevel::kInfo, "edge", "shutting_down", {{"signal", WaitForShutdownSignal()}});
  edge.BeginShutdown();
  statuses.Stop();
  server.Stop(std::chrono::milliseconds(config.drain_timeout_ms));
  Status flushed = (*publisher)->Flush(std::chrono::milliseconds(config.drain_timeout_ms));
  // Destroy the producers while the edge they report to exists: any record still in
  // flight gets its (failed) delivery report now.
  publisher->reset();
  settings_publisher->reset();
  (*settings_follower)->Stop();
  if (!flushed.ok()) {
    Log(LogLevel::kError, "edge", "flush_incomplete", {{"error", flushed.ToString()}});
    return 1;
  }
  Log(LogLevel::kInfo, "edge", "stopped");
  return 0;
}

}  // namespace tokenmeter
