#include "sinks_probe.h"

namespace tokenmeter {

SinksProbe::SinksProbe(prometheus::Registry& r, const std::string& sink) {
  auto& outcomes = prometheus::BuildCounter()
                       .Name("tokenmeter_alert_deliveries_total")
                       .Help("Alert delivery attempts by sink and outcome (delivered, retry, dead, gone)")
                       .Register(r);
  delivered_ = &outcomes.Add({{"sink", sink}, {"outcome", "delivered"}});
  retried_ = &outcomes.Add({{"sink", sink}, {"outcome", "retry"}});
  dead_ = &outcomes.Add({{"sink", sink}, {"outcome", "dead"}});
  gone_ = &outcomes.Add({{"sink", sink}, {"outcome", "gone"}});
  seconds_ = &prometheus::BuildHistogram()
                  .Name("tokenmeter_alert_delivery_attempt_seconds")
                  .Help("Duration of one delivery attempt, by sink")
                  .Register(r)
                  .Add({{"sink", sink}}, prometheus::Histogram::BucketBoundaries{
                                             0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30});
  disabled_ = &prometheus::BuildGauge()
                   .Name("tokenmeter_sink_disabled")
                   .Help("1 while a sink is disabled because its endpoint answered 410 Gone")
                   .Register(r)
                   .Add({{"sink", sink}});
}

void SinksProbe::Attempt(AttemptOutcome::Kind kind, bool dead, std::chrono::steady_clock::duration took) {
  seconds_->Observe(std::chrono::duration<double>(took).count());
  if (dead) {
    dead_->Increment();
    return;
  }
  switch (kind) {
    case AttemptOutcome::Kind::kDelivered: delivered_->Increment(); break;
    case AttemptOutcome::Kind::kGone: gone_->Increment(); break;
    case AttemptOutcome::Kind::kRetry:
    case AttemptOutcome::Kind::kPermanent: retried_->Increment(); break;
  }
}

}  // namespace tokenmeter
