// Standard Webhooks signatures (https://www.standardwebhooks.com): every webhook carries
//   webhook-id:        the alert id (the same on every retry, so receivers drop repeats)
//   webhook-timestamp: seconds since the epoch, fresh on every attempt
//   webhook-signature: "v1,<base64 HMAC-SHA256(key, id + "." + timestamp + "." + body)>",
//                      one per active secret (space-separated) while a secret rotates
// Secrets are "whsec_<base64 key>". Pure functions; any thread.
#ifndef TOKENMETER_SINKS_WEBHOOK_SIGNER_H_
#define TOKENMETER_SINKS_WEBHOOK_SIGNER_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmeter/base/status.h"

namespace tokenmeter {

// The key bytes of a "whsec_..." secret (the prefix is optional), or an error.
Result<std::string> DecodeWebhookSecret(std::string_view secret);

// "v1,<signature>" for one key.
std::string SignWebhook(std::string_view key, std::string_view id, int64_t timestamp_s,
                        std::string_view body);

// The webhook-signature header value: one "v1,..." per key, space-separated.
std::string WebhookSignatureHeader(const std::vector<std::string>& keys, std::string_view id,
                                   int64_t timestamp_s, std::string_view body);

// True if any "v1,..." in `header` matches any key (constant-time compare) and the
// timestamp is within `tolerance` of `now_s`.
bool VerifyWebhook(const std::vector<std::string>& keys, std::string_view id,
                   std::string_view timestamp, std::string_view header, std::string_view body,
                   int64_t now_s, std::chrono::seconds tolerance = std::chrono::minutes(5));

}  // namespace tokenmeter

#endif  // TOKENMETER_SINKS_WEBHOOK_SIGNER_H_
