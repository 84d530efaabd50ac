// WebhookSender: POSTs the alert JSON signed per Standard Webhooks (webhook-id = the
// alert id on every attempt, a fresh webhook-timestamp and signature each time).
// 2xx: delivered. 410: gone. 3xx: failed (redirects are not followed). Anything else, a
// timeout or a transport error: retry, honouring Retry-After (delta seconds).
// Thread: the sink's worker.
#ifndef TOKENMETER_SINKS_WEBHOOK_WEBHOOK_SENDER_H_
#define TOKENMETER_SINKS_WEBHOOK_WEBHOOK_SENDER_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "http_post.h"
#include "sender.h"
#include "tokenmeter/sinks/sink_config.h"

namespace tokenmeter {

class WebhookSender final : public Sender {
 public:
  static Result<std::unique_ptr<WebhookSender>> Create(const WebhookSinkConfig& config,
                                                       std::chrono::milliseconds timeout);
  AttemptOutcome Send(const Delivery& d, TimePoint now) override;

 private:
  WebhookSender(HttpUrl url, std::vector<std::string> keys, std::chrono::milliseconds timeout)
      : url_(std::move(url)), keys_(std::move(keys)), timeout_(timeout) {}
  HttpUrl url_;
  std::vector<std::string> keys_;
  std::chrono::milliseconds timeout_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_SINKS_WEBHOOK_WEBHOOK_SENDER_H_
