// DemoEvents: the sample set POST /v1/ingest/demo writes (dataMode demo, environment dev),
// so a new workspace's dashboards show something: four features, prompt versions (one a
// costlier deploy), users and tenants, models of three providers, a few errors and two
// client retries, spread over the six hours before `now`. Request ids carry `now`, so each
// call writes a fresh set. Pure function; any thread.
#ifndef TOKENMETER_EDGE_DEMO_EVENTS_H_
#define TOKENMETER_EDGE_DEMO_EVENTS_H_

#include <string>
#include <vector>

#include "tokenmeter/base/clock.h"
#include "tokenmeter/model/usage_event.h"

namespace tokenmeter {

// Replaces `out` with the set for `workspace`, sent by key `api_key_id` at `now`.
void DemoEvents(const std::string& workspace, const std::string& api_key_id, TimePoint now,
                std::vector<UsageEvent>& out);

}  // namespace tokenmeter

#endif  // TOKENMETER_EDGE_DEMO_EVENTS_H_
