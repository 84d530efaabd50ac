// Sender: one delivery attempt to one kind of receiver, classified for the retry policy.
// Implementations: WebhookSender (webhook/), EmailSender (email/). Called from the sink's
// own worker thread only.
#ifndef TOKENMETER_SINKS_SENDER_H_
#define TOKENMETER_SINKS_SENDER_H_

#include <optional>
#include <string>

#include "tokenmeter/base/clock.h"
#include "tokenmeter/model/outbox.h"

namespace tokenmeter {

struct AttemptOutcome {
  enum class Kind {
    kDelivered,  // the receiver took it
    kRetry,      // failed in a way that may pass later (5xx, 4xx on SMTP, timeout, refused)
    kPermanent,  // will not pass by retrying (SMTP 5xx): dead now
    kGone,       // the endpoint says it no longer exists (HTTP 410): disable the sink
  };
  Kind kind = Kind::kRetry;
  std::string detail;                     // one line for the delivery record and logs
  std::optional<int64_t> retry_after_ms;  // the receiver's own wish, if it said one
};

class Sender {
 public:
  virtual ~Sender() = default;
  virtual AttemptOutcome Send(const Delivery& d, TimePoint now) = 0;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_SINKS_SENDER_H_
