// AlertStore: decided alerts and their deliveries in the processor's RocksDB (the emit
// stage, and the Outbox the sinks read).
//
//   alerts family:  "L" ws \0 at (8 bytes BE) id  -> alert JSON \n routed sink ids (comma)
//                   "I" id                        -> the "L" key (lookup by id)
//                   "D" id \0 sink                -> the delivered Delivery (no body)
//   outbox family:  sink \0 id                    -> Delivery (pending or dead, with body)
//
// Emit() only adds to a pipeline WriteBatch (so an alert is committed with the state
// change that decided it); the rest reads or writes with its own synced writes.
// Thread-safe: the pipeline emits, sink workers call Due/Record for their own sink, HTTP
// threads list and replay.
#ifndef TOKENMETER_PROCESSOR_EMIT_ALERT_STORE_H_
#define TOKENMETER_PROCESSOR_EMIT_ALERT_STORE_H_

#include <string>
#include <vector>

#include "state/state_store.h"
#include "tokenmeter/model/alert.h"
#include "tokenmeter/model/outbox.h"

namespace tokenmeter {

class AlertStore final : public Outbox {
 public:
  explicit AlertStore(StateStore& store) : store_(store) {}

  // Adds the alert and one pending delivery per sink to `batch`, due at once; `seq`
  // increases with each decision of the process (orders alerts decided in one millisecond).
  static void Emit(StateStore::Batch& batch, const Alert& alert, const std::vector<std::string>& sinks,
                   TimePoint now, int64_t seq);

  // Whether an alert with this id was decided (is stored).
  static Result<bool> Decided(const StateStore& store, std::string_view id);

  Result<std::vector<Delivery>> Due(std::string_view sink, TimePoint now, size_t limit) override;
  Status Record(const Delivery& d) override;
  Result<OutboxDepth> Depth() const override;

  struct Listed {
    std::string alert_json;
    std::vector<Delivery> deliveries;  // one per routed sink; alert_json left empty
  };
  // A workspace's alerts with `at` in [from, to), newest first, at most `limit`.
  Result<std::vector<Listed>> List(std::string_view workspace, TimePoint from, TimePoint to,
                                   size_t limit) const;
  // Queues a dead or delivered alert's deliveries again (attempts from 0, due now). Returns
  // the sinks queued; NotFound if the id is not an alert of the workspace.
  Result<std::vector<std::string>> Replay(std::string_view workspace, std::string_view id, TimePoint now);

 private:
  Result<std::vector<Delivery>> DeliveriesOf(std::string_view id, std::string_view sinks_csv) const;
  StateStore& store_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_EMIT_ALERT_STORE_H_
