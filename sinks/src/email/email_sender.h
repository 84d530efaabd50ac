// EmailSender: the alert as a plain-text mail over SMTP (libcurl). STARTTLS is required
// unless the sink says `starttls: off` (CURLUSESSL_ALL: a server that does not offer it
// fails the attempt; never a silent plaintext fallback). Message-ID is derived from the
// alert id, so a repeat after a lost reply is recognisable. A 5xx reply is permanent
// (dead); a 4xx reply, a timeout or a connection failure is retried.
// Thread: the sink's worker.
#ifndef TOKENMETER_SINKS_EMAIL_EMAIL_SENDER_H_
#define TOKENMETER_SINKS_EMAIL_EMAIL_SENDER_H_

#include <chrono>
#include <memory>
#include <string>

#include "sender.h"
#include "tokenmeter/sinks/sink_config.h"

namespace tokenmeter {

// The whole message (headers, blank line, body) with CRLF line ends, for `alert_json`.
Result<std::string> ComposeAlertMail(const EmailSinkConfig& config, const std::string& alert_id,
                                     const std::string& alert_json, TimePoint now);

class EmailSender final : public Sender {
 public:
  static Result<std::unique_ptr<EmailSender>> Create(const EmailSinkConfig& config,
                                                     std::chrono::milliseconds timeout);
  AttemptOutcome Send(const Delivery& d, TimePoint now) override;

 private:
  EmailSender(EmailSinkConfig config, std::chrono::milliseconds timeout)
      : config_(std::move(config)), timeout_(timeout) {}
  EmailSinkConfig config_;
  std::chrono::milliseconds timeout_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_SINKS_EMAIL_EMAIL_SENDER_H_
