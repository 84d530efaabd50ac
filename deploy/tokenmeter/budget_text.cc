#include "budget_text.h"

#include "config_yaml.h"

namespace tokenmeter {

Result<BudgetConfig> BudgetOf(const std::string& workspace, const BudgetRecord& text) {
  BudgetConfig b;
  b.id = text.id;
  b.workspace = workspace;
  b.project = text.project;
  b.environment = text.environment;
  b.endpoint_tag = text.endpoint_tag;
  b.tenant = text.tenant;
  if (text.id.empty()) return InvalidArgument("id is required");
  if (text.period == "month" || text.period.empty()) {
    b.period = BudgetPeriod::kMonth;
  } else if (text.period == "day") {
    b.period = BudgetPeriod::kDay;
  } else {
    return InvalidArgument("period must be day or month");
  }
  std::optional<NanoUsd> usd = ParseDecimalUsd(text.amount_usd, 1'000'000'000);
  if (!usd || usd->value <= 0) return InvalidArgument("amount_usd must be a positive decimal USD amount, e.g. \"500\"");
  b.amount = *usd;
  if (!text.thresholds.empty()) {
    b.thresholds_ppm.clear();
    for (const std::string& t : text.thresholds) {
      std::optional<uint32_t> ppm = ParseFraction(t);
      if (!ppm || *ppm == 0) return InvalidArgument("thresholds must list fractions of the amount, e.g. [0.5, 0.8, 1.0]");
      if (*ppm > 10 * kExceededPpm) return InvalidArgument("thresholds must be in (0, 10]");
      if (!b.thresholds_ppm.empty() && *ppm <= b.thresholds_ppm.back()) {
        return InvalidArgument("thresholds must be ascending and distinct");
      }
      if (*ppm != kExceededPpm) b.thresholds_ppm.push_back(*ppm);
    }
  }
  if (!text.data_modes.empty()) {
    b.data_modes.clear();
    for (const std::string& m : text.data_modes) {
      std::optional<DataMode> dm = ParseDataMode(m);
      if (!dm) return InvalidArgument("data_modes must list real, test or demo");
      b.data_modes.push_back(*dm);
    }
  }
  return b;
}

}  // namespace tokenmeter
