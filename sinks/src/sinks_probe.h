// SinksProbe: the tokenmeter_sink_* and tokenmeter_alert_deliveries_* metrics of one
// sink (label `sink` = the configured id, a bounded set). Any thread.
#ifndef TOKENMETER_SINKS_SINKS_PROBE_H_
#define TOKENMETER_SINKS_SINKS_PROBE_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <string>

#include "sender.h"

namespace tokenmeter {

class SinksProbe {
 public:
  SinksProbe(prometheus::Registry& registry, const std::string& sink);
  // One attempt's outcome; `dead` when it ended the delivery.
  void Attempt(AttemptOutcome::Kind kind, bool dead, std::chrono::steady_clock::duration took);
  void Disabled(bool disabled) { disabled_->Set(disabled ? 1 : 0); }

 private:
  prometheus::Counter* delivered_;
  prometheus::Counter* retried_;
  prometheus::Counter* dead_;
  prometheus::Counter* gone_;
  prometheus::Histogram* seconds_;
  prometheus::Gauge* disabled_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_SINKS_SINKS_PROBE_H_
