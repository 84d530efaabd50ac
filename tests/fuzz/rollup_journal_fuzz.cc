// Fuzz target: a rollup journal row as RollupJournal::Open reads it back after a restart
// (damaged bytes, or a row of another layout). It must be refused with a reason, or read;
// a row that was read must fold into the rollup rows (hour and day rows derived from its
// minute rows) and leave no journal row behind, and the folded rows must read back. One
// store in a temporary directory serves every input; each input's rows are removed after.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "aggregate/rollup_journal.h"
#include "retention.h"
#include "state/fixed_codec.h"
#include "state/state_store_scan.h"

using namespace tokenmeter;

namespace {

StateStore& Store() {
  static std::unique_ptr<StateStore> store = [] {
    char dir[] = "/tmp/tm-fuzz-journal-XXXXXX";
    if (mkdtemp(dir) == nullptr) std::abort();
    Result<std::unique_ptr<StateStore>> s = StateStore::Open(dir, ProcessorStateOptions());
    if (!s.ok()) std::abort();
    return std::move(*s);
  }();
  return *store;
}

// Deletes every row of a family.
void Clear(StateStore& store, Family f) {
  StateStore::Batch batch = store.NewBatch();
  bool any = false;
  (void)store.Scan(f, std::string(), std::string(64, '\xff'), [&](std::string_view k, std::string_view) {
    batch.Delete(f, std::string(k));
    any = true;
    return true;
  });
  if (any && !store.Commit(batch, /*sync=*/false).ok()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  StateStore& store = Store();
  // The journal row's key as RollupJournal writes it: "rollup_journal" \0, seq, part.
  std::string key("rollup_journal\0", 15);
  AppendBigEndian(key, uint64_t{1});
  AppendBigEndian(key, uint64_t{0}, 4);
  StateStore::Batch batch = store.NewBatch();
  batch.Put(Family::kMeta, key, std::string(reinterpret_cast<const char*>(data), size));
  if (!store.Commit(batch, /*sync=*/false).ok()) std::abort();
  Result<std::unique_ptr<RollupJournal>> journal = RollupJournal::Open(store);
  if (!journal.ok()) {
    if (journal.status().message().empty()) __builtin_trap();  // a refusal says why
  } else {
    if (!(*journal)->Fold().ok()) __builtin_trap();
    if ((*journal)->PendingRows() != 0) __builtin_trap();
    Result<std::optional<std::string>> left = store.Get(Family::kMeta, key);
    if (!left.ok() || left->has_value()) __builtin_trap();  // folded: the journal row is gone
    (void)store.Scan(Family::kRollups, std::string(), std::string(64, '\xff'), [&](std::string_view, std::string_view v) {
      (void)RollupCounters::Decode(v);  // the merge operator's sums read back
      return true;
    });
  }
  Clear(store, Family::kMeta);
  Clear(store, Family::kRollups);
  return 0;
}
