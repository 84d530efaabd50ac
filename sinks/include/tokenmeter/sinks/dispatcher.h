// Dispatcher: the sinks' whole flow (sinks/src/dispatcher.cc): for each sink, a worker
// thread takes the sink's due deliveries from the outbox in decision order, attempts
// each once, and records the outcome: delivered (leaves the queue), retry later
// (exponential backoff with jitter, Retry-After honoured), or dead after the retry
// horizon or a permanent refusal. A receiver answering 410 disables its sink (logged,
// `tokenmeter_sink_disabled`); its deliveries stay queued. Each sink has its own thread,
// so a hanging receiver delays only its own deliveries, never the processor or another
// sink. At least once: an attempt whose outcome is lost (crash) is attempted again.
//
// Threads: Start()/Stop() from the owner; one worker thread per sink.
#ifndef TOKENMETER_SINKS_DISPATCHER_H_
#define TOKENMETER_SINKS_DISPATCHER_H_

#include <memory>
#include <string>
#include <vector>

#include "tokenmeter/base/clock.h"
#include "tokenmeter/model/outbox.h"
#include "tokenmeter/sinks/sink_config.h"

namespace prometheus {
class Registry;
}

namespace tokenmeter {

class Sender;

class Dispatcher {
 public:
  Dispatcher(Outbox& outbox, const RetryPolicy& retry, const Clock& clock, prometheus::Registry& registry);
  ~Dispatcher();
  // Builds a webhook or email sender per sink config.
  static Result<std::unique_ptr<Dispatcher>> Create(Outbox& outbox, const std::vector<SinkConfig>& sinks,
                                                    const RetryPolicy& retry, const Clock& clock,
                                                    prometheus::Registry& registry);
  // Before Start().
  void AddSink(const std::string& id, std::unique_ptr<Sender> sender);
  void Start();
  // Lets each worker finish its attempt in hand (bounded by the attempt timeout).
  void Stop();

  struct Worker;

 private:
  Outbox& outbox_;
  RetryPolicy retry_;
  const Clock& clock_;
  prometheus::Registry& registry_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_SINKS_DISPATCHER_H_
