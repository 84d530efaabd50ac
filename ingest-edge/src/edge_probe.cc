#include "edge_probe.h"

#include "tokenmeter/base/enum_names.h"
#include "tokenmeter/http/probe_metrics.h"

namespace tokenmeter {
namespace {

constexpr const char* kRouteNames[] = {"ingest", "healthz", "readyz", "metrics", "other"};
constexpr const char* kClassNames[] = {"2xx", "4xx", "5xx"};

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return b;
}

}  // namespace

std::string_view RejectName(Reject r) {
  static constexpr EnumNames<Reject, static_cast<size_t>(Reject::kCount)> kNames(
      {"invalid_event", "malformed_body", "too_many_events", "unauthorized", "forbidden", "unsupported_media_type",
       "rate_limited", "bus_unavailable", "plan_limit_reached", "disk_full"});
  return kNames.Name(r);
}

EdgeProbe::EdgeProbe(prometheus::Registry& registry) {
  auto& requests = prometheus::BuildCounter()
                       .Name("tokenmeter_edge_requests_total")
                       .Help("HTTP requests answered, by route and status class")
                       .Register(registry);
  auto& seconds = prometheus::BuildHistogram()
                      .Name("tokenmeter_edge_request_duration_seconds")
                      .Help("Time from a complete request to its answer, by route")
                      .Register(registry);
  for (size_t r = 0; r < static_cast<size_t>(Route::kCount); ++r) {
    for (size_t c = 0; c < 3; ++c) {
      requests_[r][c] = &requests.Add({{"route", kRouteNames[r]}, {"code", kClassNames[c]}});
    }
    request_seconds_[r] = &seconds.Add({{"route", kRouteNames[r]}}, LatencyBuckets());
  }
  accepted_ = NewCounter(registry, "tokenmeter_edge_events_accepted_total",
                         "Events acknowledged with 202 after the bus made them durable");
  answered_pending_ = NewCounter(registry, "tokenmeter_edge_events_answered_pending_total",
                                 "Events answered as pending (edge.answer_after: applied): not applied by the "
                                 "processor within edge.applied_wait_ms");
  rejected_ = NewCountersByEnum<Reject, kRejects>(registry, "tokenmeter_edge_events_rejected_total",
                                                  "Events not accepted, by reason", "reason", RejectName);
  auth_failures_ = NewCountersByEnum<KeyRejection, kKeyRejections>(
      registry, "tokenmeter_edge_auth_failures_total", "Requests refused authentication, by reason", "reason",
      KeyRejectionName, /*first=*/1);  // kNone is no failure
  auto& delivery = prometheus::BuildHistogram()
                       .Name("tokenmeter_edge_delivery_duration_seconds")
                       .Help("Time from publishing a request's events to the bus's answer")
                       .Register(registry);
  delivery_ok_ = &delivery.Add({{"outcome", "durable"}}, LatencyBuckets());
  delivery_failed_ = &delivery.Add({{"outcome", "failed"}}, LatencyBuckets());
  auto gauge = [&](const char* name, const char* help) { return NewGauge(registry, name, help); };
  http_in_flight_ = gauge("tokenmeter_edge_in_flight_requests", "Requests being handled");
  connections_ = gauge("tokenmeter_edge_open_connections", "Open client connections");
  bus_in_flight_ = gauge("tokenmeter_edge_producer_queue_records",
                         "Records handed to the bus and not yet acknowledged or failed");
  bus_ready_ = gauge("tokenmeter_edge_bus_ready", "1 when the bus can take events durably");
}

void EdgeProbe::Request(Route route, int status, std::chrono::steady_clock::duration took) {
  size_t cls = status < 400 ? 0 : status < 500 ? 1 : 2;
  requests_[static_cast<size_t>(route)][cls]->Increment();
  request_seconds_[static_cast<size_t>(route)]->Observe(
      std::chrono::duration<double>(took).count());
}

void EdgeProbe::EventsRejected(Reject reason, size_t n) {
  rejected_[static_cast<size_t>(reason)]->Increment(static_cast<double>(n));
}

void EdgeProbe::AuthFailed(KeyRejection why) {
  size_t i = static_cast<size_t>(why);
  if (i > 0 && i < auth_failures_.size()) auth_failures_[i]->Increment();
}

void EdgeProbe::Delivery(std::chrono::steady_clock::duration took, bool ok) {
  (ok ? delivery_ok_ : delivery_failed_)->Observe(std::chrono::duration<double>(took).count());
}

void EdgeProbe::Sample(int http_in_flight, int connections, size_t bus_in_flight,
                       bool bus_ready) {
  http_in_flight_->Set(http_in_flight);
  connections_->Set(connections);
  bus_in_flight_->Set(static_cast<double>(bus_in_flight));
  bus_ready_->Set(bus_ready ? 1 : 0);
}

}  // namespace tokenmeter
