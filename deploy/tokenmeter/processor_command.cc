#include <prometheus/registry.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "command_args.h"
#include "commands.h"
#include "config_file.h"
#include "signals.h"
#include "tokenmeter/base/log.h"
#include "tokenmeter/http/http_server.h"
#include "tokenmeter/processor/processor_runner.h"
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
    "processor.listen. SIGTERM or SIGINT: finish the batch in hand, leave the group, exit 0.\n"
    "\n"
    "  --config FILE     the YAML config (see README \"Configuration\")\n"
    "  --port-file FILE  write the bound HTTP port here once listening\n";


}  // namespace

int RunProcessor(const std::vector<std::string>& args) {
  CommandStart start = StartCommand(args, "processor", kProcessorUsage);
  if (start.exit_code) return *start.exit_code;
  const CommandArgs& cmd = start.args;
  const AppConfig& config = start.config;
  const KeyRing& keys = *start.keys;
  SystemClock clock;
  prometheus::Registry registry;
  auto runner = ProcessorRunner::CreateOnKafka(config.processor, config.kafka, config.edge.limits,
                                        keys, clock, registry);
  if (!runner.ok()) return StartupFailed("processor", runner.status());
  auto sinks = Dispatcher::Create((*runner)->outbox(), config.sinks, config.retry, clock, registry);
  if (!sinks.ok()) return StartupFailed("processor", sinks.status());
  HttpServer server(config.processor_http, **runner);
  if (Status s = server.Start(); !s.ok()) return StartupFailed("processor", s);
  std::string port = std::to_string(server.port());
  cmd.WritePort(server.port());
  (*runner)->Start();
  (*sinks)->Start();
  Log(LogLevel::kInfo, "processor", "running",
      {{"port", port}, {"topic", config.kafka.topic}, {"group", config.processor.group_id}});
  Log(LogLevel::kInfo, "processor", "shutting_down", {{"signal", WaitForShutdownSignal()}});
  (*sinks)->Stop();
  (*runner)->Stop();
  server.Stop(std::chrono::milliseconds(1000));
  Log(LogLevel::kInfo, "processor", "stopped");
  return 0;
}

}  // namespace tokenmeter
