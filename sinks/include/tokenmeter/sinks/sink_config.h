// Sink configuration (config key `sinks:` and `alerts.retry:`): where alerts go and how
// hard delivery tries. Plain values, validated by Validate().
#ifndef TOKENMETER_SINKS_SINK_CONFIG_H_
#define TOKENMETER_SINKS_SINK_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tokenmeter/base/status.h"

namespace tokenmeter {

enum class SinkKind : uint8_t { kWebhook, kEmail };

struct WebhookSinkConfig {
  // http://host[:port]/path. Redirects are not followed (a 3xx is a failed attempt).
  std::string url;
  // Signing secrets, "whsec_<base64>"; several while a secret rotates (each signs). Required.
  std::vector<std::string> secrets;
};

enum class StartTls : uint8_t { kRequired, kOff };

struct EmailSinkConfig {
  // smtp://host[:port] (STARTTLS per `starttls`) or smtps://host[:port] (TLS from the start).
  std::string smtp_url;
  std::string from;             // envelope and header From. Required.
  std::vector<std::string> to;  // recipients. At least one.
  std::string username, password;  // optional AUTH
  // required (default): the server must offer STARTTLS, or the attempt fails (never a
  // plaintext fallback). off: plaintext, for a relay on loopback only.
  StartTls starttls = StartTls::kRequired;
  // PEM CA bundle to verify the server with; "" = the system's.
  std::string ca_file;
};

struct SinkConfig {
  std::string id;  // unique; routes name it. Required.
  SinkKind kind = SinkKind::kWebhook;
  WebhookSinkConfig webhook;
  EmailSinkConfig email;
};

struct RetryPolicy {
  // First retry after this, doubling per attempt, up to max_backoff_ms; each wait is
  // drawn uniformly from [half, full] (jitter). Defaults 1000 and 300000.
  int initial_backoff_ms = 1000;
  int max_backoff_ms = 300000;
  // Give up (state dead) when the next attempt would start later than this after the
  // first. Default 86400 (24 h).
  int horizon_s = 86400;
  // One attempt (connect, send, read the reply) at most this long. Default 10000.
  int attempt_timeout_ms = 10000;
  // How often a sink worker looks for due deliveries. Default 200.
  int poll_interval_ms = 200;
};

Status ValidateSinks(const std::vector<SinkConfig>& sinks, const RetryPolicy& retry);

}  // namespace tokenmeter

#endif  // TOKENMETER_SINKS_SINK_CONFIG_H_
