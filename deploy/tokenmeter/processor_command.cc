#include <prometheus/registry.h>

#include <cstdio>
#include <atomic>
#include <fstream>
#include <thread>
#include <string>
#include <vector>

#include "command_args.h"
#include "commands.h"
#include "config_file.h"
#include "owner_routing.h"
#include "settings_bus.h"
#include "signals.h"
#include "tokenmeter/base/log.h"
#include "tokenmeter/bus/kafka_consumer.h"
#include "tokenmeter/bus/kafka_publisher.h"
#include "tokenmeter/http/http_server.h"
#include "tokenmeter/http/path_router.h"
#include "tokenmeter/ui/ui_handler.h"
#include "tokenmeter/processor/processor_runner.h"
#include "tokenmeter/settings/admin_api.h"
#include "tokenmeter/settings/settings_gate.h"
#include "tokenmeter/sinks/dispatcher.h"

namespace tokenmeter {
namespace {

constexpr const char* kProcessorUsage =
    "Usage: tokenmeter processor --config FILE [--port-file FILE]\n"
    "\n"
    "Runs a processor: consumes tokenmeter.events in a consumer group, counts each\n"
    "(workspace, request_id) once, prices it exactly and keeps rollups in RocksDB\n"
    "(processor.state_dir), with the consumed offsets in the same atomic batches.\n"
    "Invalid records go to the DLQ topic. Serves /healthz, /readyz, /metrics on\n"
    "processor.listen, with the query and alerts APIs for every workspace: a question about\n"
    "a workspace another processor owns is sent on to it (bus.kafka.processors_topic).\n"
    "SIGTERM or SIGINT: finish the batch in hand, leave the group, exit 0.\n"
    "\n"
    "  --config FILE     the YAML config (see README \"Configuration\")\n"
    "  --port-file FILE  write the bound HTTP port here once listening\n";

// The distributed form's bus: a consumer group on `kafka` (brokers, topic, extra
// properties shared with the edge), a Kafka producer for processor.dlq_topic, one for the
// compacted status topic (key = workspace) that every edge follows, and, with
// bus.kafka.outcomes_topic, one for the outcomes of the records applied.
Result<ProcessorBus> KafkaProcessorBus(const ProcessorConfig& config, const KafkaConfig& kafka,
                                       std::shared_ptr<const std::string> self_url, const Clock& clock) {
  KafkaConfig dlq_config = kafka;
  dlq_config.topic = config.dlq_topic;
  Result<std::unique_ptr<KafkaPublisher>> dlq = KafkaPublisher::Create(dlq_config);
  if (!dlq.ok()) return dlq.status();
  KafkaConfig status_config = kafka;
  status_config.topic = kafka.status_topic;
  Result<std::unique_ptr<KafkaPublisher>> status = KafkaPublisher::Create(status_config);
  if (!status.ok()) return status.status();
  KafkaConsumerConfig cc;
  cc.bootstrap_servers = kafka.bootstrap_servers;
  cc.topic = kafka.topic;
  cc.group_id = config.group_id;
  cc.properties = kafka.properties;
  ProcessorBus bus;
  bus.topic = kafka.topic;
  bus.dead_letters = std::shared_ptr<Publisher>(std::move(*dlq));
  // A failed status publish is logged; the processor's next refresh publishes again.
  std::shared_ptr<Publisher> status_pub(std::move(*status));
  bus.publish_status = [status_pub](const std::string& ws, const WorkspaceStatus& s) {
    const BusRecord record{ws, EncodeWorkspaceStatus(s)};
    auto logged = [ws](Status st) {
      if (st.ok()) return;
      Log(LogLevel::kError, "processor", "status_publish_failed",
          {{"workspace", ws}, {"error", st.ToString()}});
    };
    status_pub->Publish({&record, 1}, std::move(logged));
  };
  // Each committed batch's record outcomes, for edges that answer once events are applied.
  if (!kafka.outcomes_topic.empty()) {
    KafkaConfig outcomes_config = kafka;
    outcomes_config.topic = kafka.outcomes_topic;
    Result<std::unique_ptr<KafkaPublisher>> outcomes = KafkaPublisher::Create(outcomes_config);
    if (!outcomes.ok()) return outcomes.status();
    std::shared_ptr<Publisher> outcomes_pub(std::move(*outcomes));
    bus.report_outcomes = [outcomes_pub](int partition, int64_t first, std::span<const RecordOutcome> applied) {
      const BusRecord record{std::to_string(partition), EncodeAppliedRecords(first, applied)};
      outcomes_pub->Publish({&record, 1}, [partition](Status st) {
        if (st.ok()) return;
        Log(LogLevel::kError, "processor", "outcomes_publish_failed",
            {{"partition", std::to_string(partition)}, {"error", st.ToString()}});
      });
    };
  }
  // Which partitions this processor answers for, to the processors' directory.
  KafkaConfig claims_config = kafka;
  claims_config.topic = kafka.processors_topic;
  Result<std::unique_ptr<KafkaPublisher>> claims = KafkaPublisher::Create(claims_config);
  if (!claims.ok()) return claims.status();
  bus.publish_claim = ClaimPublisher(std::shared_ptr<Publisher>(std::move(*claims)), self_url, clock);
  bus.subscribe = [cc](Subscriber::NextOffsetFn next) -> Result<std::unique_ptr<Subscriber>> {
    Result<std::unique_ptr<KafkaConsumer>> c = KafkaConsumer::Create(cc, std::move(next));
    if (!c.ok()) return c.status();
    return std::unique_ptr<Subscriber>(std::move(*c));
  };
  return bus;
}

}  // namespace

int RunProcessor(const std::vector<std::string>& args) {
  CommandStart start = StartCommand(args, "processor", kProcessorUsage);
  if (start.exit_code) return *start.exit_code;
  const CommandArgs& cmd = start.args;
  const AppConfig& config = start.config;
  KeyRing& keys = *start.keys;
  // The settings topic: read whole before serving (the query API's keys), written by the
  // admin API beside the dashboard.
  auto settings_publisher = SettingsPublisher(config.kafka);
  if (!settings_publisher.ok()) return StartupFailed("processor", settings_publisher.status());
  // The pricing rules, one instance for the settings' checks and the runner.
  Result<Normalizer> normalizer = Normalizer::FromEmbeddedTable();
  if (!normalizer.ok()) return StartupFailed("processor", normalizer.status());
  auto pricing = PricingRules::Make(config.processor.price_overrides, config.processor.model_aliases);
  if (!pricing.ok()) return StartupFailed("processor", pricing.status());
  std::unique_ptr<LiveSettings> live = ConfigSettings(config, keys, *pricing, *normalizer);
  LiveSettings& settings = *live;
  SettingsRules settings_rules(settings, *normalizer);  // to the processor once it exists
  auto settings_follower = FollowKafkaSettings(config.kafka, settings);
  if (!settings_follower.ok()) return StartupFailed("processor", settings_follower.status());
  SystemClock clock;
  AdminApi admin(settings, keys, **settings_publisher, clock);
  prometheus::Registry registry;
  // Where the other processors reach this one: known once the port is bound, before the
  // runner starts (and with it the claims that carry it).
  auto self_url = std::make_shared<std::string>(config.processor_advertise_url);
  const std::string& listen = config.processor_http.address;
  if (self_url->empty() && (listen == "0.0.0.0" || listen == "::" || listen.empty())) {
    return StartupFailed("processor", InvalidArgument("processor.advertise_url is required when processor.listen "
                                                      "is a wildcard address (the URL other processors reach)"));
  }
  ProcessorDirectory directory(kClaimLiveFor);
  auto directory_follower = DirectoryFollower::Start(config.kafka, directory);
  if (!directory_follower.ok()) return StartupFailed("processor", directory_follower.status());
  Result<ProcessorBus> bus = KafkaProcessorBus(config.processor, config.kafka, self_url, clock);
  if (!bus.ok()) return StartupFailed("processor", bus.status());
  auto runner =
      ProcessorRunner::Create(config.processor, std::move(*bus), config.edge.limits, keys, clock, registry, *pricing);
  if (!runner.ok()) return StartupFailed("processor", runner.status());
  if (Status s = settings_rules.Attach(runner->get()); !s.ok()) return StartupFailed("processor", s);
  auto sinks = Dispatcher::Create((*runner)->outbox(), config.sinks, config.retry, clock, registry);
  if (!sinks.ok()) return StartupFailed("processor", sinks.status());
  // The dashboard's pages beside the query API the runner serves.
  UiHandler ui;
  OwnerRouting owners(**runner, directory, keys, clock);  // every workspace answered, here or by its owner
  PathRouter router({{"/", &ui, /*exact=*/true}, {"/ui/", &ui}, {AdminApi::kPrefix, &admin}}, owners);
  SettingsGate gate(**settings_follower, router);  // 503 settings_loading until the log is read
  HttpServer server(config.processor_http, gate);
  if (Status s = server.Start(); !s.ok()) return StartupFailed("processor", s);
  std::string port = std::to_string(server.port());
  if (self_url->empty()) *self_url = "http://" + (listen.find(':') == std::string::npos ? listen : "[" + listen + "]") + ":" + port;
  cmd.WritePort(server.port());
  // Events are applied with the current budgets only: consuming starts once the settings
  // log is read to its end (while the brokers are unreachable, not at all).
  std::atomic<bool> stopping{false};
  std::thread starter([&] {
    while (!stopping.load() && !(*settings_follower)->WaitCaughtUp(std::chrono::milliseconds(200))) {
    }
    if (stopping.load()) return;
    (*runner)->Start();
    (*sinks)->Start();
    Log(LogLevel::kInfo, "processor", "running",
        {{"port", port}, {"topic", config.kafka.topic}, {"group", config.processor.group_id}});
  });
  Log(LogLevel::kInfo, "processor", "shutting_down", {{"signal", WaitForShutdownSignal()}});
  stopping = true;
  starter.join();
  (*sinks)->Stop();
  (*runner)->Stop();
  server.Stop(std::chrono::milliseconds(1000));
  settings_publisher->reset();
  (*settings_follower)->Stop();
  Log(LogLevel::kInfo, "processor", "stopped");
  return 0;
}

}  // namespace tokenmeter
