// Loads the one YAML config file into the components' config structs. Strict: an unknown
// key is an error naming the key and its line; a wrong type names the key and line too.
// String values may reference environment variables as ${NAME} (for secrets).
// Each component's Validate() runs after loading.
#ifndef TOKENMETER_DEPLOY_CONFIG_FILE_H_
#define TOKENMETER_DEPLOY_CONFIG_FILE_H_

#include <map>
#include <string>
#include <vector>

#include "tokenmeter/auth/api_key.h"
#include "tokenmeter/bus/kafka_publisher.h"
#include "tokenmeter/edge/edge_service.h"
#include "tokenmeter/http/http_server.h"
#include "tokenmeter/processor/processor_runner.h"
#include "tokenmeter/settings/live_settings.h"
#include "tokenmeter/sinks/sink_config.h"

namespace tokenmeter {

struct AppConfig {
  HttpServerConfig http;  // `edge:` listen, threads, timeouts
  EdgeConfig edge;        // `edge:` rate limits, `ingest:`, `workspaces:`
  KafkaConfig kafka;      // `bus.kafka:`
  std::vector<KeyRecord> keys;
  ProcessorConfig processor;      // `processor:`; budgets, plans and routes from `workspaces:`,
                                  // repeat policy from `alerts:`
  // workspaces[].price_overrides and model_aliases as written (the settings' view of them:
  // the admin API's checks and config export), by workspace.
  std::map<std::string, LiveSettings::Pricing> pricing_text;
  std::vector<SinkConfig> sinks;  // `sinks:`
  RetryPolicy retry;              // `alerts.retry:`
  // `serve:` the single-process form. Ingest and query share serve.listen (default
  // 127.0.0.1:8080); data_dir holds log/ (the embedded bus) and state/ (RocksDB, unless
  // processor.state_dir says otherwise). Default data_dir: ./tokenmeter-data.
  HttpServerConfig serve_http;
  std::string serve_data_dir = "tokenmeter-data";
  int serve_log_segment_mb = 64;  // serve.log_segment_mb: the embedded logs' segment size
  HttpServerConfig processor_http;  // `processor.listen` (default 127.0.0.1:8082)
  // `processor.advertise_url`: where the other processors reach this one's HTTP API.
  // Default: http://<listen address>:<bound port>; required when listening on a wildcard.
  std::string processor_advertise_url;
  // How long SIGTERM waits for in-flight requests, then for the bus to flush. Default 10000.
  int drain_timeout_ms = 10000;
};

Result<AppConfig> LoadConfigFile(const std::string& path);
Result<AppConfig> LoadConfigText(const std::string& yaml_text);

}  // namespace tokenmeter

#endif  // TOKENMETER_DEPLOY_CONFIG_FILE_H_
