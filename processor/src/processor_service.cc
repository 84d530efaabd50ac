#include "processor_service.h"

#include <algorithm>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "tokenmeter/base/base64.h"
#include "tokenmeter/base/crash_point.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/log.h"
#include "tokenmeter/base/thread_name.h"
#include "tokenmeter/model/cleanup_command.h"

namespace tokenmeter {
namespace {

bool HasCommand(const std::vector<ConsumedRecord>& messages) {
  return std::any_of(messages.begin(), messages.end(),
                     [](const ConsumedRecord& m) { return IsCommandRecord(m.value); });
}

}  // namespace

ProcessorService::ProcessorService(StateStore& store, BatchPipeline& pipeline, Subscriber& consumer,
                                   Publisher& dead_letters, std::string topic, size_t max_batch,
                                   bool read_ahead, std::function<Status()> wal_sync)
    : store_(store),
      pipeline_(pipeline),
      consumer_(consumer),
      dead_letters_(dead_letters),
      topic_(std::move(topic)),
      max_batch_(max_batch),
      read_ahead_(read_ahead),
      syncer_(
          wal_sync ? std::move(wal_sync) : [&store] { return store.SyncWal(); }, kWalSyncEvery) {
  split_ = [this](size_t n, const std::function<void(size_t, size_t)>& work) {
    size_t mid = n / 2;
    Helper& helper = HelperAt(0);
    helper.Start([&work, mid, n] { work(mid, n); });
    work(0, mid);
    helper.Wait();
  };
}

ProcessorService::~ProcessorService() = default;

ProcessorService::Helper& ProcessorService::HelperAt(size_t i) {
  while (helpers_.size() <= i) helpers_.push_back(std::make_unique<Helper>());
  return *helpers_[i];
}

ProcessorService::Helper::Helper() {
  thread_ = std::thread([this] {
    NameThisThread("tm-batch-helper");
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stop_ || task_; });
      if (stop_) return;
      lock.unlock();
      task_();
      lock.lock();
      task_ = nullptr;
      cv_.notify_all();
    }
  });
}

ProcessorService::Helper::~Helper() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void ProcessorService::Helper::Start(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    task_ = std::move(task);
  }
  cv_.notify_all();
}

void ProcessorService::Helper::Wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return !task_; });
}

Result<std::vector<ProcessorService::PartitionMessages>> ProcessorService::PollParts(
    std::chrono::milliseconds timeout) {
  Result<std::vector<ConsumedRecord>> polled = consumer_.Poll(timeout, max_batch_);
  if (!polled.ok()) return polled.status();
  std::map<int, std::vector<ConsumedRecord>> by_partition;
  std::map<int, size_t> counts;  // each vector sized once: no doubling past malloc's mmap threshold
  for (const ConsumedRecord& r : *polled) ++counts[r.partition];
  for (const auto& [p, n] : counts) by_partition[p].reserve(n);
  for (ConsumedRecord& r : *polled) {
    by_partition[r.partition].push_back(std::move(r));
  }
  return std::vector<PartitionMessages>(std::make_move_iterator(by_partition.begin()),
                                        std::make_move_iterator(by_partition.end()));
}

std::map<int, int64_t> ProcessorService::Lag() {
  std::map<int, int64_t> lag = consumer_.Lag();
  if (ahead_) {
    for (const auto& [partition, messages] : ahead_->parts) {
      lag[partition] += static_cast<int64_t>(messages.size());
    }
  }
  return lag;
}

Result<BatchStats> ProcessorService::RunOnce(std::chrono::milliseconds poll_timeout) {
  // What the syncer has made durable since the last round is reported for lag; a failed
  // sync fails this round before it reads anything (the state may be ahead of what is
  // durable: a restart replays from the offsets stored with the last durable batch).
  Status sync_error;
  std::map<int, int64_t> durable = syncer_.TakeSynced(sync_error);
  if (!durable.empty()) {
    // A partition given away since its sync is not reported: its new owner reports it.
    std::set<int> owned = consumer_.Assigned();
    std::erase_if(durable, [&owned](const auto& p) { return !owned.count(p.first); });
    consumer_.CommitForLag(durable);
  }
  if (!sync_error.ok()) return sync_error;
  std::vector<PartitionMessages> parts;
  bool decoded = false;  // parts[0] is decoded in decoded_[0] already
  if (ahead_) {
    parts = std::move(ahead_->parts);
    decoded = ahead_->decoded;
    ahead_.reset();
  } else {
    Result<std::vector<PartitionMessages>> polled = PollParts(poll_timeout);
    if (!polled.ok()) return polled.status();
    parts = std::move(*polled);
  }
  std::vector<BatchStats> stats(parts.size());
  std::vector<Status> applied;
  if (read_ahead_ && parts.size() == 1 && std::thread::hardware_concurrency() > 1) {
    applied.push_back(ApplyReadingAhead(parts[0], decoded, stats[0]));
  } else {
    applied = ApplyAll(parts, stats);
  }
  BatchStats total;
  std::map<int, int64_t> positions;
  Status first_error;
  // Each partition's batch is committed whole, without a sync; the syncer makes them
  // durable together (the WAL keeps commit order) before their offsets are reported.
  for (size_t i = 0; i < parts.size(); ++i) {
    const auto& [partition, messages] = parts[i];
    const Status& s = applied[i];
    if (s.ok()) {
      AddStats(total, stats[i]);
      positions[partition] = messages.back().offset + 1;
      continue;
    }
    Log(LogLevel::kError, "processor", "batch_failed",
        {{"partition", std::to_string(partition)}, {"error", s.ToString()}});
    // Come back to the first record not committed.
    Result<std::optional<int64_t>> stored = store_.NextOffset(topic_, partition);
    int64_t back = stored.ok() && stored->has_value() ? **stored : messages.front().offset;
    Status seek = consumer_.Seek(partition, back);
    if (!seek.ok()) Log(LogLevel::kError, "processor", "seek_failed", {{"error", seek.ToString()}});
    ahead_.reset();  // read past the failed batch: those records come again after the seek
    if (first_error.ok()) first_error = s;
  }
  if (!positions.empty()) syncer_.Request(positions);
  if (!first_error.ok()) return first_error;
  return total;
}

std::vector<Status> ProcessorService::ApplyAll(const std::vector<PartitionMessages>& parts,
                                               std::vector<BatchStats>& stats) {
  std::vector<Status> out(parts.size());
  size_t records = 0;
  for (const auto& p : parts) records += p.second.size();
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  size_t groups = std::min<size_t>({parts.size(), cores, 4});
  if (records < kParallelFrom) groups = 1;
  // One group on a multi-core machine (a single busy partition): the helper takes half
  // of each record's own work inside the batch instead.
  const bool splitting = groups == 1 && cores > 1 && records >= kParallelFrom;
  auto apply = [&](const std::vector<size_t>& which) {
    for (size_t i : which) {
      const auto& [partition, messages] = parts[i];
      out[i] = HasCommand(messages)
                   ? ApplyAroundCommands(partition, messages, stats[i])
                   : ApplyPrepared(pipeline_.Prepare(partition, messages, splitting ? &split_ : nullptr), stats[i]);
    }
  };
  // Largest partitions first, each to the lightest group.
  std::vector<size_t> order(parts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return parts[a].second.size() > parts[b].second.size(); });
  std::vector<std::vector<size_t>> assigned(std::max<size_t>(groups, 1));
  std::vector<size_t> load(assigned.size(), 0);
  for (size_t i : order) {
    size_t g = std::min_element(load.begin(), load.end()) - load.begin();
    assigned[g].push_back(i);
    load[g] += parts[i].second.size();
  }
  while (helpers_.size() + 1 < assigned.size()) helpers_.push_back(std::make_unique<Helper>());
  for (size_t g = 1; g < assigned.size(); ++g) {
    const std::vector<size_t>& which = assigned[g];
    helpers_[g - 1]->Start([&apply, &which] { apply(which); });
  }
  apply(assigned[0]);
  for (size_t g = 1; g < assigned.size(); ++g) helpers_[g - 1]->Wait();
  return out;
}

Status ProcessorService::ApplyReadingAhead(const PartitionMessages& part, bool decoded,
                                           BatchStats& stats) {
  const auto& [partition, messages] = part;
  const bool large = messages.size() >= kParallelFrom;
  if (!decoded) pipeline_.Decode(messages, decoded_[0], large ? &split_ : nullptr);
  // Behind (a large poll): what has arrived since is polled now and decoded on the helper
  // while this batch's in-order steps run here.
  bool decoding = false;
  if (large) {
    Result<std::vector<PartitionMessages>> next = PollParts(std::chrono::milliseconds(0));
    if (next.ok() && !next->empty()) {
      ahead_.emplace(Ahead{{}, false});
      ahead_->parts = std::move(*next);
      decoding = ahead_->parts.size() == 1;
      if (decoding) {
        Helper& helper = HelperAt(0);
        helper.Start([this] { pipeline_.Decode(ahead_->parts[0].second, decoded_[1]); });
      }
    }
  }
  Status applied = HasCommand(messages) ? ApplyAroundCommands(partition, messages, stats)
                                        : ApplyPrepared(pipeline_.Prepare(partition, messages, decoded_[0]), stats);
  if (decoding) {
    HelperAt(0).Wait();
    ahead_->decoded = true;
    std::swap(decoded_[0], decoded_[1]);
  }
  return applied;
}

Status ProcessorService::ApplyPrepared(Result<PreparedBatch> prepared, BatchStats& stats) {
  if (!prepared.ok()) return prepared.status();
  CrashPoint("after_batch_built");
  // Dead letters must be durable before the offsets that pass them are committed.
  RETURN_IF_ERROR(PublishDeadLetters(prepared->dead_letters));
  CrashPoint("after_dead_letters_before_commit");
  RETURN_IF_ERROR(pipeline_.Commit(*prepared, /*sync=*/false));
  CrashPoint("after_commit");
  stats = std::move(prepared->stats);
  stats.workspaces = std::move(prepared->workspaces);
  return Status::Ok();
}

Status ProcessorService::ApplyAroundCommands(int partition, const std::vector<ConsumedRecord>& messages,
                                             BatchStats& stats) {
  std::vector<ConsumedRecord> events;
  auto apply_events = [&]() -> Status {
    if (events.empty()) return Status::Ok();
    BatchStats s;
    RETURN_IF_ERROR(ApplyPrepared(pipeline_.Prepare(partition, events), s));
    AddStats(stats, s);
    events.clear();
    return Status::Ok();
  };
  for (const ConsumedRecord& m : messages) {
    if (!IsCommandRecord(m.value)) {
      events.push_back(m);
      continue;
    }
    RETURN_IF_ERROR(apply_events());
    BatchStats s;
    RETURN_IF_ERROR(ApplyPrepared(pipeline_.PrepareCommand(partition, m), s));
    AddStats(stats, s);
  }
  return apply_events();
}

void ProcessorService::AddStats(BatchStats& total, BatchStats& s) {
  total.consumed += s.consumed;
  total.redelivered += s.redelivered;
  total.counted += s.counted;
  total.duplicates += s.duplicates;
  total.conflicts += s.conflicts;
  total.dead_lettered += s.dead_lettered;
  for (size_t i = 0; i < s.dead_by_reason.size(); ++i) total.dead_by_reason[i] += s.dead_by_reason[i];
  total.unpriced += s.unpriced;
  for (size_t i = 0; i < s.alerts_by_type.size(); ++i) total.alerts_by_type[i] += s.alerts_by_type[i];
  total.workspaces.insert(total.workspaces.end(), s.workspaces.begin(), s.workspaces.end());
  std::move(s.applied.begin(), s.applied.end(), std::back_inserter(total.applied));
}

Status ProcessorService::PublishDeadLetters(const std::vector<DeadLetter>& letters) {
  if (letters.empty()) return Status::Ok();
  std::vector<BusRecord> records;
  for (const DeadLetter& d : letters) {
    std::string v = "{\"reason\":";
    AppendJsonString(v, d.reason);
    v += ",\"topic\":";
    AppendJsonString(v, topic_);
    v += ",\"partition\":" + std::to_string(d.partition) +
         ",\"offset\":" + std::to_string(d.offset) + ",";
    // The record exactly, so it can be inspected and sent again: as a JSON string when it
    // is UTF-8 text (a JSON record, escaped), else its bytes in base64 (a binary record,
    // or text that is not UTF-8). Either way the DLQ record itself is valid JSON.
    if (IsValidUtf8(d.value)) {
      v += "\"record\":";
      AppendJsonString(v, d.value);
    } else {
      v += "\"record_base64\":\"";
      AppendBase64(v, d.value);
      v += "\"";
    }
    v += "}";
    records.push_back({std::to_string(d.partition), std::move(v)});
  }
  std::promise<Status> done;
  auto result = done.get_future();
  dead_letters_.Publish(std::move(records), [&done](Status s) { done.set_value(std::move(s)); });
  return result.get();
}

}  // namespace tokenmeter
