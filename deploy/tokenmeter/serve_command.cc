#include <prometheus/registry.h>

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
#include "tokenmeter/bus/embedded_log.h"
#include "tokenmeter/edge/edge_service.h"
#include "tokenmeter/http/http_server.h"
#include "tokenmeter/http/path_router.h"
#include "tokenmeter/ui/ui_handler.h"
#include "tokenmeter/processor/processor_runner.h"
#include "tokenmeter/settings/admin_api.h"
#include "tokenmeter/sinks/dispatcher.h"

namespace tokenmeter {
namespace {

constexpr const char* kServeUsage =
    "Usage: tokenmeter serve --config FILE [--port-file FILE]\n"
    "\n"
    "Runs everything in one process with no Kafka: the ingest edge and the processor\n"
    "over an embedded durable log (serve.data_dir/log; an event is synced to disk before\n"
    "its 202), state in serve.data_dir/state, ingest and query API on one port\n"
    "(serve.listen, default 127.0.0.1:8080). SIGTERM or SIGINT: stop accepting, finish\n"
    "in-flight requests, commit the batch in hand, exit 0; logged events not yet applied\n"
    "are applied at the next start. Alerts are delivered to the configured sinks.\n"
    "\n"
    "  --config FILE     the YAML config (example: deploy/examples/serve.yaml)\n"
    "  --port-file FILE  write the bound port here once listening\n";


}  // namespace

int RunServe(const std::vector<std::string>& args) {
  CommandStart start = StartCommand(args, "serve", kServeUsage);
  if (start.exit_code) return *start.exit_code;
  const CommandArgs& cmd = start.args;
  const AppConfig& config = start.config;
  KeyRing& keys = *start.keys;
  Result<Normalizer> normalizer = Normalizer::FromEmbeddedTable();
  if (!normalizer.ok()) return StartupFailed("serve", normalizer.status());
  const std::string data = config.serve_data_dir;
  // Retention drops a segment of the events log once the processor's state holds every
  // record in it and it is log_days old; of the dead letters, once it is dlq_days old.
  EmbeddedLogConfig events_config{data + "/log", "events.log"};
  events_config.segment_bytes = static_cast<uint64_t>(config.serve_log_segment_mb) << 20;
  events_config.retention = config.processor.retention.log_window();
  EmbeddedLogConfig dlq_config = events_config;
  dlq_config.name = "dlq.log";
  dlq_config.retention = config.processor.retention.dlq_window();
  dlq_config.keep_unapplied = false;
  auto events = EmbeddedLog::Open(events_config);
  if (!events.ok()) return StartupFailed("serve", events.status());
  auto dead_letters = EmbeddedLog::Open(dlq_config);
  if (!dead_letters.ok()) return StartupFailed("serve", dead_letters.status());
  std::shared_ptr<EmbeddedLog> events_log = std::move(*events);
  // The settings log (keys made through the admin API): never trimmed, read whole before
  // the port opens, so a restart serves with every change.
  EmbeddedLogConfig settings_config = events_config;
  settings_config.name = "settings.log";
  settings_config.retention = std::chrono::milliseconds(0);
  settings_config.keep_unapplied = false;
  auto settings_log = EmbeddedLog::Open(settings_config);
  if (!settings_log.ok()) return StartupFailed("serve", settings_log.status());
  // The processors' pricing rules, one instance for the settings' checks and the processor.
  auto pricing = PricingRules::Make(config.processor.price_overrides, config.processor.model_aliases);
  if (!pricing.ok()) return StartupFailed("serve", pricing.status());
  std::unique_ptr<LiveSettings> live = ConfigSettings(config, keys, *pricing, *normalizer);
  LiveSettings& settings = *live;
  SettingsRules settings_rules(settings, *normalizer);  // to the processor once it exists
  auto settings_reader = (*settings_log)->Subscribe([](int) { return Result<std::optional<int64_t>>(std::nullopt); });
  if (!settings_reader.ok()) return StartupFailed("serve", settings_reader.status());
  SettingsFollower settings_follower(std::move(*settings_reader), settings);
  settings_follower.Start();  // a local file: read whole before the port opens
  if (!settings_follower.WaitCaughtUp(std::chrono::seconds(30))) {
    return StartupFailed("serve", Unavailable("the settings log was not read to its end within 30 s"));
  }

  SystemClock clock;
  prometheus::Registry registry;
  EdgeService edge(config.edge, keys, *normalizer, *events_log, clock, registry);
  edge.AttachProjects(LiveProjects(settings));
  AdminApi admin(settings, keys, **settings_log, clock);
  ProcessorConfig pc = config.processor;
  if (pc.state_dir.empty()) pc.state_dir = data + "/state";
  ProcessorBus bus;
  bus.topic = config.kafka.topic;
  bus.dead_letters = std::shared_ptr<Publisher>(std::move(*dead_letters));
  bus.subscribe = [events_log](Subscriber::NextOffsetFn next) { return events_log->Subscribe(std::move(next)); };
  bus.read_ahead = true;
  bus.publish_status = [&edge](const std::string& ws, const WorkspaceStatus& s) { edge.SetWorkspaceStatus(ws, s); };
  // Ingest is answered once the processor has applied the events (unless answer_after:
  // durable): the processor reports each batch's outcomes after the statuses it changed.
  std::shared_ptr<RecordOutcomes> outcomes;
  if (config.edge.answer_after.value_or(EdgeConfig::AnswerAfter::kApplied) == EdgeConfig::AnswerAfter::kApplied) {
    outcomes = std::make_shared<RecordOutcomes>();
    edge.AttachOutcomes(outcomes.get());
    bus.report_outcomes = [outcomes](int partition, int64_t first, std::span<const RecordOutcome> applied) {
      outcomes->Applied(partition, first, applied);
    };
  }
  auto processor = ProcessorRunner::Create(pc, std::move(bus), config.edge.limits, keys, clock, registry, *pricing);
  if (!processor.ok()) return StartupFailed("serve", processor.status());
  if (Status s = settings_rules.Attach(processor->get()); !s.ok()) return StartupFailed("serve", s);
  // serve's /readyz (the edge's) also says when the processor's totals are partial (its
  // state rebuilt from a log retention has trimmed). Not the processor's other reasons:
  // while the state's disk is full or batches fail, events are still taken durably into
  // the log and applied later, so ingest stays ready (the processor's gauges say it).
  edge.AttachReadiness([runner = processor->get()]() -> std::optional<OpsEndpoints::Unready> {
    std::optional<OpsEndpoints::Unready> why = runner->NotReady();
    if (why && why->reason == "history_lost") return why;
    return std::nullopt;
  });
  auto sinks = Dispatcher::Create((*processor)->outbox(), config.sinks, config.retry, clock, registry);
  if (!sinks.ok()) return StartupFailed("serve", sinks.status());

  // One port: the dashboard's pages, the admin API, the query and alerts APIs, and the
  // edge for the rest.
  UiHandler ui;
  std::vector<PathRouter::Route> routes = {{"/", &ui, /*exact=*/true}, {"/ui/", &ui}, {AdminApi::kPrefix, &admin}};
  for (std::string& prefix : ProcessorRunner::RoutePrefixes()) routes.push_back({std::move(prefix), processor->get()});
  PathRouter router(std::move(routes), edge);
  // The ingest paths' status fields on the server's own refusals too (also on the query
  // API's, which share the port).
  HttpServerConfig http = config.serve_http;
  http.error_members = EdgeService::ServerErrorMembers();
  HttpServer server(http, router);
  edge.AttachServer(&server);
  if (Status s = server.Start(); !s.ok()) return StartupFailed("serve", s);
  (*processor)->Start();
  (*sinks)->Start();
  std::string port = std::to_string(server.port());
  cmd.WritePort(server.port());
  Log(LogLevel::kInfo, "serve", "listening",
      {{"address", config.serve_http.address}, {"port", port}, {"data_dir", data},
       {"log_records", std::to_string(events_log->End())}});

  Log(LogLevel::kInfo, "serve", "shutting_down", {{"signal", WaitForShutdownSignal()}});
  edge.BeginShutdown();
  server.Stop(std::chrono::milliseconds(config.drain_timeout_ms));
  (*sinks)->Stop();
  (*processor)->Stop();
  settings_follower.Stop();
  // Close the logs while the edge they report to exists: queued writes complete now.
  events_log.reset();
  settings_log->reset();
  Log(LogLevel::kInfo, "serve", "stopped");
  return 0;
}

}  // namespace tokenmeter
