// WalSyncer: makes committed state durable on its own thread. The processor commits each
// batch to RocksDB without a sync and hands the batch's bus positions here; one sync
// covers every batch committed before it starts (the WAL keeps commit order), and only
// the positions it covered are handed back, for lag reporting. The committing thread
// never waits on the disk (in serve at 90k events/s the sync was ~20% of its time), and
// syncs can be spaced out: nothing but lag reporting waits on them, and each costs a
// flush of the WAL file and its metadata.
//
// What a crash keeps: the WAL reaches the OS with each commit, so a process that dies
// loses nothing; a machine that loses power restarts from the offsets stored with the
// last durable batch (older by up to the interval between syncs) and the bus replays the
// rest.
//
// Thread-safe: Request and TakeSynced from any thread (the processor calls both from its
// RunOnce thread); the sync function runs on the syncer's thread only.
#ifndef TOKENMETER_PROCESSOR_STATE_WAL_SYNCER_H_
#define TOKENMETER_PROCESSOR_STATE_WAL_SYNCER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "tokenmeter/base/status.h"

namespace tokenmeter {

class WalSyncer {
 public:
  // `sync` makes everything committed before the call durable (StateStore::SyncWal).
  // Syncs start at least `min_interval` apart (requests meanwhile wait and share the
  // next one), except the last one on stopping.
  explicit WalSyncer(std::function<Status()> sync,
                     std::chrono::milliseconds min_interval = std::chrono::milliseconds(0));
  ~WalSyncer();  // syncs what was handed to it and not yet synced, then stops
  WalSyncer(const WalSyncer&) = delete;
  WalSyncer& operator=(const WalSyncer&) = delete;

  // Next positions (partition -> next offset) of batches committed by now; a later call
  // overrides a partition's earlier position.
  void Request(const std::map<int, int64_t>& positions);
  // Positions made durable since the last call. `error`: the first failed sync since the
  // last call (its positions are not handed back; the next sync covers their batches).
  std::map<int, int64_t> TakeSynced(Status& error);

 private:
  std::function<Status()> sync_;
  std::chrono::milliseconds min_interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, int64_t> pending_;  // under mu_, as the rest
  bool requested_ = false;
  std::map<int, int64_t> synced_;
  Status error_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_STATE_WAL_SYNCER_H_
