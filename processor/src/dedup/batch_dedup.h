// BatchDedup: the dedup stage of one partition batch. It finds the stored records of the
// batch's ids (the in-memory DedupIndex names candidate rows, one sorted MultiGet reads
// them), decides each event in arrival order, and stages the records it changed into the
// batch's WriteBatch:
//   new        the id has no record in the window: counted (its record made here);
//   duplicate  a copy of a counted call (same fingerprint): attempts + 1, not counted;
//   conflict   the id reused with other content: attempts + 1, not counted, quarantined;
//   unreadable the id's stored record cannot be decoded: not counted (it may be already),
//              quarantined, the stored row left as it is.
// A record first seen more than the window before a copy's receive time is replaced: the
// copy is a new call.
//
// Thread: one batch at a time per object (the pipeline keeps one per partition); objects
// of different partitions run at once (their ids never meet).
#ifndef TOKENMETER_PROCESSOR_DEDUP_BATCH_DEDUP_H_
#define TOKENMETER_PROCESSOR_DEDUP_BATCH_DEDUP_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dedup_index.h"
#include "dedup_record.h"
#include "state/state_store.h"

namespace tokenmeter {

// One valid event as dedup sees it.
struct DedupInput {
  std::string_view id;       // DedupKey(workspace, request_id)
  uint64_t hash = 0;         // DedupIdHash(id)
  uint64_t fingerprint = 0;  // Fingerprint(event)
  int64_t received_ms = 0;
};

enum class DedupVerdict : uint8_t { kNew, kDuplicate, kConflict, kUnreadable };

struct DedupOutcome {
  static constexpr uint32_t kStored = std::numeric_limits<uint32_t>::max();
  DedupVerdict verdict = DedupVerdict::kNew;
  // The counted original of a duplicate or conflict: an input of this batch, or kStored
  // (then stored_event_key is its event row's key).
  uint32_t original = kStored;
  std::string_view stored_event_key;  // valid until the next Decide
  size_t unreadable_bytes = 0;        // kUnreadable: the size of the stored row
};

class BatchDedup {
 public:
  // Decides inputs[i] into out[i], in order. Reads the store (the rows `index` names);
  // changes nothing yet.
  Status Decide(const StateStore& store, const DedupIndex& index, std::span<const DedupInput> inputs,
                std::chrono::milliseconds window, std::vector<DedupOutcome>& out);
  // Puts every record Decide made or changed into `batch`, in key order, and adds the new
  // ones to `index` (before the batch commits: the index may name rows that are not
  // there, never miss one). `row_key_of(i)` is the events-family key the new event
  // inputs[i] is stored under.
  void Stage(DedupIndex& index, StateStore::Batch& batch,
             const std::function<std::string_view(uint32_t)>& row_key_of);

 private:
  std::vector<uint32_t> by_key_;                     // input positions in id order
  std::vector<uint32_t> slot_;                       // input -> its id's position in keys_
  std::vector<std::string_view> keys_;               // distinct ids, sorted
  std::vector<uint64_t> key_hashes_;                 // DedupIdHash of each
  std::vector<DedupChoice> choices_;                 // what each id's stored rows come to
  std::vector<uint32_t> made_from_;                  // the input a new record is of, or kStored
  std::vector<std::pair<uint32_t, DedupIndex::Where>> where_;  // candidates: (id, where)
  std::vector<std::pair<uint64_t, DedupIndex::Where>> added_;  // new rows' index slots
  // Dedup row keys (the candidates read, then the rows written), built in one buffer.
  std::string row_key_bytes_;
  std::vector<DedupRowKeyRef> row_keys_;
  std::vector<std::string_view> row_key_views_;
  std::vector<std::optional<std::string>> values_;
  std::string value_;  // a record being encoded
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_DEDUP_BATCH_DEDUP_H_
