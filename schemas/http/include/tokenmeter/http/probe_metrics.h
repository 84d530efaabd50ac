// The series every probe registers for /metrics (OpsEndpoints): one unlabelled counter,
// gauge or histogram, and a counter family with one series per value of an enum, labelled
// with the value's name (so a probe indexes its series by the enum, and a value's label
// cannot drift from its name). Registration only; the series are prometheus-cpp's.
#ifndef TOKENMETER_HTTP_PROBE_METRICS_H_
#define TOKENMETER_HTTP_PROBE_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace tokenmeter {

inline prometheus::Counter* NewCounter(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return &prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({});
}
inline prometheus::Gauge* NewGauge(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}
inline prometheus::Histogram* NewHistogram(prometheus::Registry& r, const std::string& name, const std::string& help,
                                           prometheus::Histogram::BucketBoundaries bounds) {
  return &prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, std::move(bounds));
}

// Series [first, N) of a counter family labelled `label` = name_of(value); entries below
// `first` stay null (values that are never counted, e.g. "no error").
template <typename E, size_t N>
std::array<prometheus::Counter*, N> NewCountersByEnum(prometheus::Registry& r, const std::string& name,
                                                      const std::string& help, const std::string& label,
                                                      std::string_view (*name_of)(E), size_t first = 0) {
  auto& family = prometheus::BuildCounter().Name(name).Help(help).Register(r);
  std::array<prometheus::Counter*, N> out{};
  for (size_t i = first; i < N; ++i) out[i] = &family.Add({{label, std::string(name_of(static_cast<E>(i)))}});
  return out;
}

}  // namespace tokenmeter

#endif  // TOKENMETER_HTTP_PROBE_METRICS_H_
