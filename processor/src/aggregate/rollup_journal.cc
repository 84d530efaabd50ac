#include "rollup_journal.h"

#include <algorithm>
#include <iterator>
#include <string_view>

#include "state/fixed_codec.h"
#include "tokenmeter/base/crash_point.h"

namespace tokenmeter {
namespace {

// Meta-family keys: "rollup_journal" \0 seq (8 bytes BE) part (4 bytes BE) -> a batch's
// deltas, split into parts of about kPartBytes; "rollup_folded" -> the number (8 bytes BE)
// of the last generation folded.
constexpr std::string_view kJournalPrefix("rollup_journal\0", 15);
constexpr std::string_view kJournalEnd("rollup_journal\1", 15);
const std::string kFoldedKey = "rollup_folded";
// "rollup_fold_progress" -> a fold cut short between its chunks (EncodeProgress).
const std::string kProgressKey = "rollup_fold_progress";
constexpr size_t kJournalKeyBytes = 15 + 8 + 4;
// A part's first byte: its layout (keys front-coded, RollupCounters::PutCompact).
constexpr char kCompactRowVersion = 2;
// A 10,000-event batch has ~5 MB of deltas, a catch-up batch far more: parts of this size
// keep every value small enough to be carved from the memtable's arena blocks (a value
// over a quarter of a block, 2 MiB here, gets an allocation of its own) and bound the
// buffer one part is encoded in.
constexpr size_t kPartBytes = 256u << 10;

std::string JournalKey(uint64_t seq, uint32_t part) {
  std::string k(kJournalPrefix);
  AppendBigEndian(k, seq);
  AppendBigEndian(k, part, 4);
  return k;
}

// A part: kCompactRowVersion, then per row: the length of the prefix its key shares with
// the row before (a varint; 0 for the first), the rest of the key (a varint length and the
// bytes), and its counters (RollupCounters::PutCompact). Rows sorted by key share most of
// the key (workspace, mode, granularity, dimension, minute), and most of a row's counters
// are zero, so a one-event row takes ~35 bytes: the journal is a large part of what a
// batch writes (WAL, memtable) when batches are small. Rows from
// `at` on until the part is about kPartBytes; returns where the next part starts.
size_t EncodePart(const RollupDeltas& rows, size_t at, std::string& out) {
  size_t used = 0;
  auto room = [&out, &used](size_t n) {  // sized ahead, written in place
    if (out.size() < used + n) out.resize(std::max(2 * out.size(), used + n));
  };
  room(1);
  out[used++] = kCompactRowVersion;
  std::string_view prev;
  for (; at < rows.size() && used < kPartBytes; ++at) {
    const RollupDelta& r = rows[at];
    size_t shared = 0;
    const size_t limit = std::min(prev.size(), r.key.size());
    while (shared < limit && prev[shared] == r.key[shared]) ++shared;
    room(2 * kMaxVarint + (r.key.size() - shared) + r.counters->CompactBound());
    char* p = out.data() + used;
    p = PutVarint(p, shared);
    p = PutText(p, r.key.substr(shared));
    p = r.counters->PutCompact(p);
    used = static_cast<size_t>(p - out.data());
    prev = r.key;
  }
  out.resize(used);
  return at;
}

// The progress row: the generation's number (8 bytes BE), the length (4 bytes BE) and bytes
// of its last minute row folded, then its journal rows' keys end to end.
std::string EncodeProgress(uint64_t id, std::string_view through, const std::vector<std::string>& rows) {
  std::string out;
  AppendBigEndian(out, id);
  AppendBigEndian(out, static_cast<uint64_t>(through.size()), 4);
  out += through;
  for (const std::string& r : rows) out += r;
  return out;
}

}  // namespace

RollupJournal::RollupJournal(StateStore& store, size_t max_pending_rows, size_t fold_chunk_rows)
    : store_(store), max_pending_rows_(max_pending_rows), fold_chunk_rows_(std::max<size_t>(1, fold_chunk_rows)) {}

Result<std::optional<RollupJournal::Progress>> RollupJournal::ReadProgress(const StateStore::Snapshot* at) const {
  Result<std::optional<std::string>> row = store_.Get(Family::kMeta, kProgressKey, at);
  if (!row.ok()) return row.status();
  if (!row->has_value()) return std::optional<Progress>();
  const std::string& v = **row;
  const size_t through = v.size() >= 12 ? GetBigEndian(v, 8, 4) : 0;
  if (v.size() < 12 || v.size() < 12 + through || (v.size() - 12 - through) % kJournalKeyBytes != 0) {
    return Internal("the rollup fold's progress row cannot be read (" + std::to_string(v.size()) +
                    " bytes); the fold it records would be counted twice or lost");
  }
  Progress p;
  p.id = GetBigEndian(v, 0);
  p.through = v.substr(12, through);
  for (size_t at = 12 + through; at < v.size(); at += kJournalKeyBytes) p.rows.push_back(v.substr(at, kJournalKeyBytes));
  return std::optional<Progress>(std::move(p));
}

Result<std::unique_ptr<RollupJournal>> RollupJournal::Open(StateStore& store, size_t max_pending_rows,
                                                           size_t fold_chunk_rows) {
  std::unique_ptr<RollupJournal> j(new RollupJournal(store, max_pending_rows, fold_chunk_rows));
  // A fold cut short: its journal rows folded on from the last minute row its committed
  // chunks hold, to the end, now (a crash here leaves a later progress: the same again).
  Result<std::optional<Progress>> progress = j->ReadProgress(nullptr);
  if (!progress.ok()) return progress.status();
  if (progress->has_value()) {
    Generation rest;
    rest.id = (*progress)->id;
    for (const std::string& key : (*progress)->rows) {
      Result<std::optional<std::string>> part = store.Get(Family::kMeta, key);
      if (!part.ok()) return part.status();
      if (!part->has_value() || !AddTo(rest, **part)) {
        return Internal("rollup journal row of a fold cut short cannot be read; its counts would be lost");
      }
      rest.rows.push_back(key);
    }
    std::string through = (*progress)->through;
    bool done = false;
    RETURN_IF_ERROR(j->FoldChunks(rest, through, SIZE_MAX, done));
  }
  Result<std::optional<std::string>> marker = store.Get(Family::kMeta, kFoldedKey);
  if (!marker.ok()) return marker.status();
  j->open_ = std::make_unique<Generation>();
  j->open_->id = (marker->has_value() && (*marker)->size() == 8 ? GetBigEndian(**marker, 0) : 0) + 1;
  uint64_t last_seq = 0;
  std::string bad;
  Status s = store.Scan(Family::kMeta, std::string(kJournalPrefix), std::string(kJournalEnd),
                        [&](std::string_view k, std::string_view v) {
                          bool keyed = k.size() == kJournalPrefix.size() + 12;
                          uint64_t seq = keyed ? GetBigEndian(k, kJournalPrefix.size()) : 0;
                          uint64_t part = keyed ? GetBigEndian(k, kJournalPrefix.size() + 8, 4) : 0;
                          if (seq == 0 || !AddTo(*j->open_, v)) {
                            bad = "rollup journal row " + std::to_string(seq) + "/" + std::to_string(part) +
                                  " cannot be read (" + std::to_string(v.size()) +
                                  " bytes); its counts would be lost";
                            return false;
                          }
                          j->open_->rows.emplace_back(k);
                          last_seq = std::max(last_seq, seq);
                          return true;
                        });
  if (!s.ok()) return s;
  if (!bad.empty()) return Internal(bad);
  j->next_seq_ = last_seq + 1;
  j->pending_rows_ = j->open_->minutes.size();
  return j;
}

std::optional<size_t> RollupJournal::AddTo(Generation& g, std::string_view b) {
  if (b.empty() || b[0] != kCompactRowVersion) return std::nullopt;
  // A part's rows are in key order, so each one's place in the generation is at or after
  // the last one's: a few steps from there before a search from the root.
  size_t added = 0;
  auto hint = g.minutes.begin();
  // The row of `key` in the generation (added when new); nullopt for a key that is not
  // a 1-minute rollup key.
  auto place = [&](std::string_view key) -> std::optional<decltype(hint)> {
    if (key.find('\0') == std::string_view::npos || key.size() < RollupGranularityAt(key) + 12 ||
        key[RollupGranularityAt(key)] != static_cast<char>(Granularity::kMinute)) {
      return std::nullopt;
    }
    auto pos = hint;
    for (int steps = 0; pos != g.minutes.end() && pos->first < key; ++pos) {
      if (++steps == 4) {
        pos = g.minutes.lower_bound(key);
        break;
      }
    }
    if (pos == g.minutes.end() || pos->first != key) {
      pos = g.minutes.emplace_hint(pos, std::string(key), RollupCounters{});
      ++added;
    }
    hint = std::next(pos);
    return pos;
  };
  VarintReader r(b.substr(1));
  std::string key;
  while (!r.done()) {
    uint64_t shared = r.Varint();
    std::string_view rest = r.Text();
    if (!r.ok() || shared > key.size()) return std::nullopt;
    key.resize(shared);
    key += rest;
    auto pos = place(key);
    if (!pos || !(*pos)->second.AddCompact(r)) return std::nullopt;
  }
  return added;
}

Result<RollupJournal::Staged> RollupJournal::Stage(StateStore::Batch& batch,
                                                   const RollupDeltas& minutes) {
  Staged s;
  if (minutes.empty()) return s;
  size_t pending = PendingRows();
  if (pending > max_pending_rows_) {
    return Unavailable("rollup journal: " + std::to_string(pending) +
                       " rows wait for a fold (folds are behind or failing); batch postponed");
  }
  s.seq = next_seq_.fetch_add(1);
  for (size_t at = 0; at < minutes.size();) {
    std::string part;
    at = EncodePart(minutes, at, part);
    batch.Put(Family::kMeta, JournalKey(s.seq, static_cast<uint32_t>(s.parts.size())), part);
    s.parts.push_back(std::move(part));
  }
  return s;
}

void RollupJournal::Publish(Staged staged) {
  if (staged.seq == 0) return;
  std::unique_lock lock(mu_);
  for (uint32_t p = 0; p < staged.parts.size(); ++p) {
    // Encoded by Stage from rows it was given: always readable.
    pending_rows_ += AddTo(*open_, staged.parts[p]).value_or(0);
    open_->rows.push_back(JournalKey(staged.seq, p));
  }
}

Status RollupJournal::Fold(size_t max_chunks) {
  std::lock_guard fold_lock(fold_mu_);
  std::shared_ptr<const Generation> gen;
  {
    std::unique_lock lock(mu_);
    if (!closed_) {
      if (open_->rows.empty()) return Status::Ok();
      uint64_t id = open_->id;
      closed_ = std::move(open_);
      open_ = std::make_unique<Generation>();
      open_->id = id + 1;
      folded_through_.clear();
    }
    gen = closed_;
  }
  bool done = false;
  RETURN_IF_ERROR(FoldChunks(*gen, folded_through_, max_chunks, done));
  if (!done) return Status::Ok();
  std::unique_lock lock(mu_);
  pending_rows_ -= gen->minutes.size();
  closed_.reset();
  folded_through_.clear();
  return Status::Ok();
}

Status RollupJournal::FoldChunks(const Generation& g, std::string& through, size_t max_chunks, bool& done) {
  auto it = through.empty() ? g.minutes.begin() : g.minutes.upper_bound(through);
  for (size_t chunk = 0; chunk < max_chunks; ++chunk) {
    auto end = it;
    for (size_t n = 0; n < fold_chunk_rows_ && end != g.minutes.end(); ++n) ++end;
    const bool last = end == g.minutes.end();
    // The chunk's hour and day rows summed over its minutes first, then every row in key
    // order (for the memtable's sequential-insert hint; see benchmarks/README.md,
    // "Processor"). A row's key is copied only when the row is new: minutes of one hour
    // share it.
    std::map<std::string, RollupCounters, std::less<>> coarse;
    std::string coarse_key;
    for (auto m = it; m != end; ++m) {
      for (Granularity gran : {Granularity::kHour, Granularity::kDay}) {
        CoarserRollupKey(m->first, gran, coarse_key);
        auto c = coarse.lower_bound(coarse_key);
        if (c == coarse.end() || c->first != coarse_key) c = coarse.emplace_hint(c, coarse_key, RollupCounters{});
        c->second.Add(m->second);
      }
    }
    StateStore::Batch batch = store_.NewBatch();
    auto m = it;
    auto h = coarse.begin();
    std::string value;
    while (m != end || h != coarse.end()) {
      const bool minute_first = h == coarse.end() || (m != end && m->first < h->first);
      const auto& [key, counters] = minute_first ? *m++ : *h++;
      value.clear();
      counters.AppendTo(value);
      batch.Merge(Family::kRollups, key, value);
    }
    const std::string chunk_through = it == end ? through : std::prev(end)->first;
    if (last) {
      for (const std::string& row : g.rows) batch.Delete(Family::kMeta, row);
      std::string marker;
      AppendBigEndian(marker, g.id);
      batch.Put(Family::kMeta, kFoldedKey, marker);
      batch.Delete(Family::kMeta, kProgressKey);
      CrashPoint("before_rollup_fold");
    } else {
      batch.Put(Family::kMeta, kProgressKey, EncodeProgress(g.id, chunk_through, g.rows));
    }
    RETURN_IF_ERROR(store_.Commit(batch, /*sync=*/false));
    CrashPoint(last ? "after_rollup_fold" : "after_rollup_fold_chunk");
    through = chunk_through;
    if (last) {
      done = true;
      return Status::Ok();
    }
    it = end;
  }
  return Status::Ok();
}

Status RollupJournal::Pending(const RollupRange& r, std::unique_ptr<StateStore::Snapshot>& at,
                              std::vector<PendingRow>& out) const {
  // The deltas are 1-minute rows: a coarser range reads the minutes of its buckets.
  std::string prefix = r.prefix;
  size_t gran_at = RollupGranularityAt(prefix);
  auto g = static_cast<Granularity>(prefix[gran_at]);
  prefix[gran_at] = static_cast<char>(Granularity::kMinute);
  uint64_t from = GetBigEndian(r.begin, r.prefix.size());
  uint64_t to = GetBigEndian(r.end, r.prefix.size());
  std::string begin = prefix, end = prefix;
  AppendBigEndian(begin, from);
  AppendBigEndian(end, to + static_cast<uint64_t>(g == Granularity::kMinute ? 0 : BucketSpanMs(g)));
  auto in_range = [&](TimePoint b) {
    auto ms = static_cast<uint64_t>(b.time_since_epoch().count());
    return ms >= from && ms < to;
  };

  std::shared_lock lock(mu_);
  at = store_.TakeSnapshot();
  Result<std::optional<std::string>> marker = store_.Get(Family::kMeta, kFoldedKey, at.get());
  if (!marker.ok()) return marker.status();
  uint64_t folded = marker->has_value() && (*marker)->size() == 8 ? GetBigEndian(**marker, 0) : 0;
  // Rows at or before `through` are in the stored rows already (a fold's committed chunks).
  auto collect = [&](const Generation& gen, std::string_view through) {
    auto first = gen.minutes.lower_bound(begin);
    if (!through.empty() && first != gen.minutes.end() && std::string_view(first->first) <= through) {
      first = gen.minutes.upper_bound(through);
    }
    for (auto it = first; it != gen.minutes.end() && it->first < end; ++it) {
      TimePoint minute;
      RollupScope scope;
      std::string_view value;
      SplitRollupKey(it->first, prefix.size(), minute, scope, value);
      TimePoint bucket = BucketStart(minute, g);
      if (in_range(bucket)) {
        out.push_back({bucket, std::string(scope.environment), std::string(scope.project), std::string(value),
                       it->second});
      }
    }
  };
  if (closed_ && closed_->id > folded) {
    Result<std::optional<Progress>> progress = ReadProgress(at.get());
    if (!progress.ok()) return progress.status();
    const bool partly = progress->has_value() && (*progress)->id == closed_->id;
    collect(*closed_, partly ? std::string_view((*progress)->through) : std::string_view());
  }
  collect(*open_, {});
  return Status::Ok();
}

Status RollupJournal::Unfolded(const RollupRange& r, std::unique_ptr<StateStore::Snapshot>& at,
                               std::map<std::string, RollupCounters, std::less<>>& unfolded) const {
  std::vector<PendingRow> pending;
  RETURN_IF_ERROR(Pending(r, at, pending));
  std::string key;
  for (const PendingRow& p : pending) {
    key.assign(r.prefix);
    AppendBigEndian(key, static_cast<uint64_t>(p.bucket.time_since_epoch().count()));
    key += p.environment;
    key.push_back('\0');
    key += p.project;
    key.push_back('\0');
    key += p.value;
    unfolded[key].Add(p.counters);
  }
  return Status::Ok();
}

}  // namespace tokenmeter
