// RecordOutcomes: what the processor did with each bus record, for an edge that answers
// ingest only once its events are applied (edge.answer_after: applied). The processor's
// report of each committed batch's records in offset order reaches it directly in
// `serve`, and through the outcomes topic (EncodeAppliedRecords) in the distributed form
// (Applied); the edge, once its records are durable at known offsets, asks for their
// outcomes (Await) and is called back with them, or at its deadline with those known by
// then (the rest are still pending).
//
// A batch may be applied before its publisher learns its offsets (the log hands records
// to readers as it acknowledges them), so the last kKeep outcomes of each partition are
// kept. Callbacks run on the board's own thread, never the processor's.
//
// Thread-safe; Applied and Await from any thread.
#ifndef TOKENMETER_BUS_RECORD_OUTCOMES_H_
#define TOKENMETER_BUS_RECORD_OUTCOMES_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <span>
#include <thread>
#include <vector>

namespace tokenmeter {

// One record's outcome: a verdict and flags.
enum class RecordVerdict : uint8_t {
  kPending = 0,   // not applied (yet) as far as the board knows
  kInserted = 1,  // a new event, counted
  kSkipped = 2,   // a copy of an event already counted (a retry)
  kConflict = 3,  // a request id reused with other content: not counted
  kRejected = 4,  // dead-lettered by the processor (invalid on re-validation)
};
struct RecordOutcome {
  RecordVerdict verdict = RecordVerdict::kPending;
  bool unpriced = false;  // kInserted with no price for its model
  bool operator==(const RecordOutcome&) const = default;
};

class RecordOutcomes {
 public:
  using Ready = std::function<void(std::vector<RecordOutcome>)>;
  static constexpr size_t kKeep = 1u << 20;  // per partition, one byte each

  RecordOutcomes();
  ~RecordOutcomes();  // calls every waiter still waiting with what is known
  RecordOutcomes(const RecordOutcomes&) = delete;
  RecordOutcomes& operator=(const RecordOutcomes&) = delete;

  // The records from `first_offset` on of `partition` were committed with these outcomes.
  void Applied(int partition, int64_t first_offset, std::span<const RecordOutcome> outcomes);
  // Calls `ready` with the outcomes of the records at `offsets` (ascending) of `partition`
  // once all are applied, or at `deadline` with kPending for those not.
  void Await(int partition, std::vector<int64_t> offsets, std::chrono::steady_clock::time_point deadline,
             Ready ready);

 private:
  struct Waiter {
    int partition;
    std::vector<int64_t> offsets;
    std::chrono::steady_clock::time_point deadline;
    Ready ready;
  };
  struct Lane {
    int64_t base = 0;  // the offset of outcomes.front()
    std::deque<RecordOutcome> outcomes;
  };
  bool Complete(const Waiter& w) const;                        // under mu_
  std::vector<RecordOutcome> Collect(const Waiter& w) const;  // under mu_
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, Lane> lanes_;
  std::vector<Waiter> waiters_;
  bool changed_ = false;  // something applied or awaited since the loop last looked
  bool stop_ = false;
  std::thread thread_;
};

// One batch's outcomes as an outcomes-topic record value (key: the partition, decimal): a
// version byte (1), the first offset (8 bytes, big-endian), then one byte per record
// (verdict | unpriced << 3).
std::string EncodeAppliedRecords(int64_t first_offset, std::span<const RecordOutcome> outcomes);
// nullopt for a value of another version or shape.
std::optional<std::pair<int64_t, std::vector<RecordOutcome>>> DecodeAppliedRecords(std::string_view value);

}  // namespace tokenmeter

#endif  // TOKENMETER_BUS_RECORD_OUTCOMES_H_
