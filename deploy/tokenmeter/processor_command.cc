#include <prometheus/registry.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "commands.h"
#include "config_file.h"
#include "signals.h"
#include "tokenmeter/base/log.h"
#include "tokenmeter/http/http_server.h"
#include "tokenmeter/processor/processor_runner.h"

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

int Fail(const Status& s) {
  Log(LogLevel::kError, "processor", "startup_failed", {{"error", s.ToString()}});
  return 1;
}

}  // namespace

int RunProcessor(const std::vector<std::string>& args) {
  std::string config_path, port_file;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(kProcessorUsage, stdout);
      return 0;
    }
    if (i + 1 < args.size() && args[i] == "--config") {
      config_path = args[++i];
    } else if (i + 1 < args.size() && args[i] == "--port-file") {
      port_file = args[++i];
    } else {
      std::fprintf(stderr, "tokenmeter processor: bad option %s\n%s", args[i].c_str(), kProcessorUsage);
      return 2;
    }
  }
  if (config_path.empty()) {
    std::fputs(kProcessorUsage, stderr);
    return 2;
  }
  BlockShutdownSignals();
  Result<AppConfig> config = LoadConfigFile(config_path);
  if (!config.ok()) return Fail(config.status());
  Result<KeyRing> keys = KeyRing::Build(config->keys);
  if (!keys.ok()) return Fail(keys.status());
  SystemClock clock;
  prometheus::Registry registry;
  auto runner = ProcessorRunner::CreateOnKafka(config->processor, config->kafka, config->edge.limits,
                                        *keys, clock, registry);
  if (!runner.ok()) return Fail(runner.status());
  HttpServer server(config->processor_http, **runner);
  if (Status s = server.Start(); !s.ok()) return Fail(s);
  std::string port = std::to_string(server.port());
  if (!port_file.empty()) std::ofstream(port_file) << port << "\n";
  (*runner)->Start();
  Log(LogLevel::kInfo, "processor", "running",
      {{"port", port}, {"topic", config->kafka.topic}, {"group", config->processor.group_id}});
  Log(LogLevel::kInfo, "processor", "shutting_down", {{"signal", WaitForShutdownSignal()}});
  (*runner)->Stop();
  server.Stop(std::chrono::milliseconds(1000));
  Log(LogLevel::kInfo, "processor", "stopped");
  return 0;
}

}  // namespace tokenmeter
