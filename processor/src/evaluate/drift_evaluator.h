// DriftEvaluator: runs the detectors (detectors.h) in the stream, once per closed 1-minute
// window of each workspace. A minute is closed when an event at least `grace_s` after its
// end has been seen for the workspace (event time). For each closed minute with traffic
// it reads the 1-minute rollups (the journal's rows plus the batch's uncommitted deltas) of
// the minute and the `baseline_windows` before it, real data only, all environments, and
// decides: cost per request per endpoint_tag and per prompt_version, spend spike, request
// burst, tenant concentration, unpriced share. Each (detector, key) has a firing state:
// one alert when it starts, reminders per repeat interval, a resolved notice when a later
// window with traffic no longer shows it. State rows go into the batch's WriteBatch.
//
// State family keys: "w" \0 ws -> last evaluated minute, first minute seen (2 x 8 bytes);
// "f" \0 ws \0 type \0 key -> firing state.
// Thread: the pipeline's; one instance per batch.
#ifndef TOKENMETER_PROCESSOR_EVALUATE_DRIFT_EVALUATOR_H_
#define TOKENMETER_PROCESSOR_EVALUATE_DRIFT_EVALUATOR_H_

#include <map>
#include <string>
#include <vector>

#include "aggregate/rollup.h"
#include "aggregate/rollup_journal.h"
#include "alert_rules.h"
#include "state/state_store.h"
#include "tokenmeter/model/alert.h"
#include "tokenmeter/model/usage_event.h"

namespace tokenmeter {

class DriftEvaluator {
 public:
  DriftEvaluator(const StateStore& store, const RollupJournal& rollups, const AlertRules& rules)
      : store_(store), rollups_(rollups), rules_(rules) {}

  // A new event (any data mode: time moves on for the workspace).
  void Observe(const UsageEvent& e);
  // Evaluates every minute closed by this batch; puts state rows into `batch` and appends
  // the decided alerts.
  Status Finish(const RollupDeltas& deltas, StateStore::Batch& batch, std::vector<Alert>& alerts);

  struct Firing {
    bool active = false;
    int64_t since_ms = 0;
    int64_t last_notified_ms = 0;
    uint32_t reminders = 0;
    uint32_t episode = 0;
  };

 private:
  Status EvaluateWorkspace(const std::string& ws, TimePoint watermark, const RollupDeltas& deltas,
                           StateStore::Batch& batch, std::vector<Alert>& alerts);
  Result<Firing*> LoadFiring(const std::string& key);

  const StateStore& store_;
  const RollupJournal& rollups_;
  const AlertRules& rules_;
  std::map<std::string, TimePoint> watermarks_;  // per workspace: latest event time in this batch
  std::map<std::string, TimePoint> first_seen_;  // per workspace: earliest event time in this batch
  std::map<std::string, Firing> firing_;          // loaded or changed state rows
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_EVALUATE_DRIFT_EVALUATOR_H_
