// The outbox: the processor's hand-off of decided alerts to the sinks (DESIGN.md "Data
// flow"). The processor writes one Delivery per (alert, routed sink) in the same RocksDB
// WriteBatch as the state change that decided the alert; the sinks read due deliveries,
// attempt them and record each outcome. A Delivery is removed from the queue only when
// delivered; exhausted retries leave it `dead` (visible, counted, replayable).
//
// Outbox implementations are thread-safe: one sink worker per sink calls Due/Record for
// its own sink; the query API reads and replays from HTTP threads.
#ifndef TOKENMETER_MODEL_OUTBOX_H_
#define TOKENMETER_MODEL_OUTBOX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmeter/base/clock.h"
#include "tokenmeter/base/status.h"

namespace tokenmeter {

enum class DeliveryState : uint8_t { kPending, kDelivered, kDead };
std::string_view DeliveryStateName(DeliveryState s);

struct Delivery {
  std::string sink;
  std::string alert_id;
  DeliveryState state = DeliveryState::kPending;
  uint32_t attempts = 0;
  int64_t created_ms = 0;       // wall clock when the alert was decided
  int64_t decision_seq = 0;     // orders alerts decided within the same millisecond
  int64_t queued_ms = 0;        // when it entered the outbox: decided, or replayed
  int64_t first_attempt_ms = 0; // 0 = not attempted yet; the retry horizon counts from here
  int64_t next_attempt_ms = 0;  // due at or after this wall-clock time
  int64_t done_ms = 0;          // when it was delivered or given up
  std::string last_error;       // one line
  std::string alert_json;       // the body to send (EncodeAlertJson)

  // Text layout: numbers and the error on the first line, the alert JSON after it.
  std::string Encode() const;
  static std::optional<Delivery> Decode(std::string_view sink, std::string_view alert_id,
                                        std::string_view bytes);
};

struct OutboxDepth {
  size_t pending = 0;
  size_t dead = 0;
  int64_t oldest_pending_queued_ms = 0;  // 0 when nothing is pending
};

class Outbox {
 public:
  virtual ~Outbox() = default;
  // Pending deliveries of `sink` with next_attempt_ms <= now, in decision order (created,
  // then alert time), at most `limit`.
  virtual Result<std::vector<Delivery>> Due(std::string_view sink, TimePoint now, size_t limit) = 0;
  // Stores an attempt's outcome: pending (retry later), delivered (leaves the queue), dead.
  virtual Status Record(const Delivery& d) = 0;
  virtual Result<OutboxDepth> Depth() const = 0;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_MODEL_OUTBOX_H_
