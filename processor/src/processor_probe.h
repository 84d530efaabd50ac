// ProcessorProbe: every tokenmeter_processor_* metric. Call sites say what happened;
// labels come from fixed values only. Any thread.
#ifndef TOKENMETER_PROCESSOR_PROCESSOR_PROBE_H_
#define TOKENMETER_PROCESSOR_PROCESSOR_PROBE_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>

#include "pipeline.h"

namespace tokenmeter {

class ProcessorProbe {
 public:
  explicit ProcessorProbe(prometheus::Registry& registry);
  void BatchApplied(const BatchStats& s, std::chrono::steady_clock::duration took);
  void BatchFailed() { batch_failures_->Increment(); }
  void Partitions(size_t assigned, size_t history_lost);

 private:
  prometheus::Counter* consumed_;
  prometheus::Counter* counted_;
  prometheus::Counter* duplicates_;
  prometheus::Counter* conflicts_;
  prometheus::Counter* dead_lettered_;
  prometheus::Counter* unpriced_;
  prometheus::Counter* redelivered_;
  prometheus::Counter* batch_failures_;
  prometheus::Histogram* batch_seconds_;
  prometheus::Gauge* assigned_;
  prometheus::Gauge* history_lost_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_PROCESSOR_PROBE_H_
