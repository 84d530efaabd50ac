#include "webhook_sender.h"

#include "tokenmeter/sinks/webhook_signer.h"

namespace tokenmeter {

Result<std::unique_ptr<WebhookSender>> WebhookSender::Create(const WebhookSinkConfig& config,
                                                             std::chrono::milliseconds timeout) {
  Result<HttpUrl> url = ParseHttpUrl(config.url);
  if (!url.ok()) return url.status();
  std::vector<std::string> keys;
  for (const std::string& s : config.secrets) {
    Result<std::string> k = DecodeWebhookSecret(s);
    if (!k.ok()) return k.status();
    keys.push_back(std::move(*k));
  }
  if (keys.empty()) return InvalidArgument("a webhook sink needs at least one secret");
  return std::unique_ptr<WebhookSender>(new WebhookSender(std::move(*url), std::move(keys), timeout));
}

AttemptOutcome WebhookSender::Send(const Delivery& d, TimePoint now) {
  int64_t ts = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::vector<std::pair<std::string, std::string>> headers = {
      {"content-type", "application/json"},
      {"webhook-id", d.alert_id},
      {"webhook-timestamp", std::to_string(ts)},
      {"webhook-signature", WebhookSignatureHeader(keys_, d.alert_id, ts, d.alert_json)}};
  Result<HttpPostReply> r = HttpPost(url_, headers, d.alert_json, timeout_);
  AttemptOutcome out;
  if (!r.ok()) {
    out.detail = r.status().message();
    return out;
  }
  int status = r->status;
  out.detail = "HTTP " + std::to_string(status);
  if (status >= 200 && status < 300) {
    out.kind = AttemptOutcome::Kind::kDelivered;
  } else if (status == 410) {
    out.kind = AttemptOutcome::Kind::kGone;
    out.detail = "HTTP 410 Gone: the endpoint is disabled until the sink is reconfigured or tokenmeter restarts";
  } else if (status >= 300 && status < 400) {
    out.detail += ": redirect to " + (r->location.empty() ? std::string("(none)") : r->location) + " not followed";
  } else if (!r->retry_after.empty() && r->retry_after.size() <= 6 &&
             r->retry_after.find_first_not_of("0123456789") == std::string::npos) {
    out.retry_after_ms = std::stoll(r->retry_after) * 1000;
    out.detail += ", Retry-After " + r->retry_after + " s";
  }
  return out;
}

}  // namespace tokenmeter
