#include "tokenmeter/bus/embedded_log.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "tokenmeter/base/crc32c.h"
#include "tokenmeter/base/file_lock.h"
#include "tokenmeter/base/log.h"
#include "tokenmeter/base/thread_name.h"

namespace tokenmeter {
namespace {

constexpr size_t kHeader = 12;  // length, CRC, key length

void Set32(char* at, uint32_t v) {
  for (int b = 0; b < 4; ++b) at[b] = static_cast<char>((v >> (8 * b)) & 0xff);
}
uint32_t Get32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
// The length field's top bit is set in every record: its checksum is CRC-32C. (Logs of
// early development builds had zlib's CRC-32 and the bit clear; they are refused.) A
// record's body is under 2 GiB, so the bit is free.
constexpr uint32_t kCrc32cFlag = 0x80000000u;
constexpr size_t kMaxBody = 0x7fffffffu;

// One file of the log: the records from offset `base` on, end to end. Shared with a
// reader for as long as it reads, so a segment retention drops is closed only after.
struct Segment {
  int64_t base = 0;
  std::string path;
  int fd = -1;
  std::vector<uint64_t> positions;  // file position of each record
  uint64_t file_end = 0;
  int64_t last_write_ms = 0;        // wall clock of its last append (its mtime at open)
  int64_t end() const { return base + static_cast<int64_t>(positions.size()); }
  ~Segment() {
    if (fd >= 0) ::close(fd);
  }
};

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct EmbeddedLog::Impl {
  EmbeddedLogConfig config;
  std::string stem;  // config.name without ".log": segment files are stem.<base>.log
  FileLock lock;     // stem.lock, held until the log is closed: one writer per log
  mutable std::mutex mu;
  std::condition_variable writer_cv;            // work for the writer
  mutable std::condition_variable appended_cv;  // new records for readers / flush
  // One Publish, framed on the publishing thread while its records are still in that
  // core's cache: the writer only writes the bytes, and frees one buffer per publish
  // instead of two strings per record allocated on another thread.
  struct Pending {
    std::string bytes;                   // the records, framed, end to end
    std::vector<uint32_t> record_sizes;  // framed size of each record, in order
    Placed done;
  };
  std::deque<Pending> queue;
  size_t queued_records = 0;
  // Oldest first; never empty; the last one is written to (only by the writer thread,
  // which alone adds or drops segments).
  std::deque<std::shared_ptr<Segment>> segments;
  int64_t applied = 0;  // what the subscriber reported applied (durable in its state)
  uint64_t repaired = 0;
  bool stop = false;
  // Set by a failed write, cleared by the next one that succeeds. While set, Ready() says
  // why (with `mu`: the failure and when), until a write may be tried again: at once when
  // the failure was a full disk and kRoomToRetry is free again, else kRetryAfterFailure
  // after it (a publish is the only thing that tries a write).
  std::atomic<bool> failing{false};
  Status failure;
  std::chrono::steady_clock::time_point failed_at;
  std::thread writer;

  static constexpr uint64_t kRoomToRetry = 1u << 20;
  static constexpr std::chrono::seconds kRetryAfterFailure{1};

  int64_t End() const { return segments.back()->end(); }  // with mu
  int64_t First() const { return segments.front()->base; }

  std::string SegmentPath(int64_t base) const {
    char digits[24];
    std::snprintf(digits, sizeof(digits), "%020lld", static_cast<long long>(base));
    return config.dir + "/" + stem + "." + digits + ".log";
  }

  // Finds the segment files, oldest first, and reads each: records must follow on from
  // the segment before; only the newest may end in a torn write (cut off).
  Status Load() {
    const std::string single = config.dir + "/" + config.name;
    if (std::filesystem::exists(single)) {
      return FailedPrecondition(
          "the embedded log " + single +
          " is one file, as early development builds wrote it; this build keeps the log in segments (" + stem +
          ".<first offset>.log): move it aside and start with an empty log");
    }
    std::vector<std::pair<int64_t, std::string>> found;
    for (const auto& entry : std::filesystem::directory_iterator(config.dir)) {
      const std::string name = entry.path().filename().string();
      const std::string prefix = stem + ".";
      if (name.size() != prefix.size() + 20 + 4 || name.compare(0, prefix.size(), prefix) != 0 ||
          name.compare(name.size() - 4, 4, ".log") != 0) {
        continue;
      }
      const std::string digits = name.substr(prefix.size(), 20);
      if (digits.find_first_not_of("0123456789") != std::string::npos) continue;
      found.emplace_back(std::stoll(digits), entry.path().string());
    }
    std::sort(found.begin(), found.end());
    if (found.empty()) return AddSegment(0);
    for (size_t i = 0; i < found.size(); ++i) {
      auto seg = std::make_shared<Segment>();
      seg->base = found[i].first;
      seg->path = found[i].second;
      if (!segments.empty() && seg->base != segments.back()->end()) {
        return FailedPrecondition("the embedded log's segment " + seg->path + " does not follow on from " +
                                  segments.back()->path + " (records " + std::to_string(segments.back()->end()) +
                                  " to " + std::to_string(seg->base - 1) + " are missing)");
      }
      seg->fd = ::open(seg->path.c_str(), O_RDWR | O_CLOEXEC);
      if (seg->fd < 0) return Unavailable("cannot open " + seg->path + ": " + std::strerror(errno));
      RETURN_IF_ERROR(LoadSegment(*seg, /*newest=*/i + 1 == found.size()));
      segments.push_back(std::move(seg));
    }
    return Status::Ok();
  }

  Status LoadSegment(Segment& seg, bool newest) {
    struct stat st;
    if (fstat(seg.fd, &st) != 0) return Unavailable("stat " + seg.path);
    seg.last_write_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
    uint64_t size = static_cast<uint64_t>(st.st_size);
    uint64_t pos = 0;
    std::string buf;
    while (pos + kHeader <= size) {
      unsigned char h[kHeader];
      if (pread(seg.fd, h, kHeader, static_cast<off_t>(pos)) != static_cast<ssize_t>(kHeader)) break;
      uint32_t len = Get32(h), crc = Get32(h + 4), key_len = Get32(h + 8);
      if ((len & kCrc32cFlag) == 0 && len >= 4 && key_len <= len - 4 && pos + 8 + len <= size) {
        // A whole record without the flag was not torn: a log of an early development
        // build (or damage). Cutting it off would drop acknowledged records.
        return FailedPrecondition(
            "the embedded log " + seg.path + " has a record at byte " + std::to_string(pos) +
            " in a format this build does not read (written by an early development build, "
            "or damaged): move it aside and start with an empty log");
      }
      len &= ~kCrc32cFlag;
      if (len < 4 || key_len > len - 4 || pos + 8 + len > size) break;
      buf.resize(len);
      if (pread(seg.fd, buf.data(), len, static_cast<off_t>(pos + 8)) != static_cast<ssize_t>(len)) break;
      if (Crc32c(buf.data(), len) != crc) break;
      seg.positions.push_back(pos);
      pos += 8 + len;
    }
    if (pos < size) {
      if (!newest) {
        return FailedPrecondition("the embedded log's segment " + seg.path + " is damaged at byte " +
                                  std::to_string(pos) + " (a later segment follows it, so this is no torn write)");
      }
      // The tail was never acknowledged (a crash mid-write): cut it off.
      repaired = size - pos;
      if (ftruncate(seg.fd, static_cast<off_t>(pos)) != 0 || fdatasync(seg.fd) != 0) {
        return Unavailable("cannot repair the embedded log's torn tail");
      }
      Log(LogLevel::kWarn, "embedded_log", "torn_tail_repaired",
          {{"bytes", std::to_string(repaired)}, {"records", std::to_string(seg.positions.size())}});
    }
    seg.file_end = pos;
    return Status::Ok();
  }

  // Starts the segment of records from `base` on (the writer thread, or Load). Its file
  // and the directory entry are synced before a record is written to it.
  Status AddSegment(int64_t base) {
    auto seg = std::make_shared<Segment>();
    seg->base = base;
    seg->path = SegmentPath(base);
    seg->fd = ::open(seg->path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (seg->fd < 0) {
      const int err = errno;
      std::string what = "cannot create " + seg->path + ": " + std::strerror(err);
      return err == ENOSPC || err == EDQUOT ? NoSpace(std::move(what)) : Unavailable(std::move(what));
    }
    int dir = ::open(config.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      ::fsync(dir);
      ::close(dir);
    }
    seg->last_write_ms = WallMs();
    std::lock_guard l(mu);
    segments.push_back(std::move(seg));
    return Status::Ok();
  }

  // Drops the oldest segments that retention lets go: every record in them applied
  // (config.keep_unapplied: below `applied`) and their last write older than
  // config.retention. Never the segment being written. Writer thread.
  void DropExpired() {
    if (config.retention.count() <= 0) return;
    const int64_t cutoff = WallMs() - config.retention.count();
    std::vector<std::shared_ptr<Segment>> dropped;
    {
      std::lock_guard l(mu);
      while (segments.size() > 1) {
        const Segment& oldest = *segments.front();
        if (oldest.last_write_ms >= cutoff) break;
        if (config.keep_unapplied && oldest.end() > applied) break;
        dropped.push_back(std::move(segments.front()));
        segments.pop_front();
      }
    }
    for (const auto& seg : dropped) {
      if (::unlink(seg->path.c_str()) != 0) {
        Log(LogLevel::kError, "embedded_log", "segment_unlink_failed", {{"path", seg->path}, {"error", std::strerror(errno)}});
        continue;
      }
      Log(LogLevel::kInfo, "embedded_log", "segment_dropped",
          {{"path", seg->path}, {"records", std::to_string(seg->positions.size())},
           {"bytes", std::to_string(seg->file_end)}});
    }
  }

  // Writes the buffers end to end at `at` of `fd`, as few pwritev calls as the kernel allows.
  static bool WriteAll(int fd, std::vector<iovec>& iov, uint64_t at) {
    size_t first = 0;
    while (first < iov.size()) {
      int count = static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
      ssize_t n = pwritev(fd, iov.data() + first, count, static_cast<off_t>(at));
      if (n <= 0) return false;
      at += static_cast<uint64_t>(n);
      // Skip what was written; a partial write resumes inside a buffer.
      size_t left = static_cast<size_t>(n);
      while (first < iov.size() && left >= iov[first].iov_len) left -= iov[first++].iov_len;
      if (left > 0) {
        iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
        iov[first].iov_len -= left;
      }
    }
    return true;
  }

  void WriterLoop() {
    std::vector<iovec> iov;
    std::unique_lock lock(mu);
    for (;;) {
      writer_cv.wait(lock, [&] { return stop || !queue.empty(); });
      if (queue.empty() && stop) return;
      std::deque<Pending> batch;
      batch.swap(queue);
      size_t batch_records = queued_records;
      queued_records = 0;
      std::shared_ptr<Segment> seg = segments.back();
      lock.unlock();

      // A full segment is closed (the next one starts at its end) before this batch is
      // written; retention then looks at the closed ones.
      Status result = Status::Ok();
      if (seg->file_end >= config.segment_bytes && !seg->positions.empty()) {
        result = AddSegment(seg->end());
        if (result.ok()) {
          lock.lock();
          seg = segments.back();
          lock.unlock();
          DropExpired();
        }
      }
      const uint64_t start = seg->file_end;
      std::vector<uint64_t> new_positions;
      new_positions.reserve(batch_records);
      uint64_t end = start;
      iov.clear();
      for (Pending& p : batch) {
        for (uint32_t size : p.record_sizes) {
          new_positions.push_back(end);
          end += size;
        }
        iov.push_back({p.bytes.data(), p.bytes.size()});
      }
      bool ok = result.ok();
      if (ok) {
        ok = WriteAll(seg->fd, iov, start) && fdatasync(seg->fd) == 0;
        if (!ok) {
          int err = errno;
          // Undo the partial append so the file never holds unacknowledged records ahead
          // of later ones.
          if (ftruncate(seg->fd, static_cast<off_t>(start)) != 0) {
            Log(LogLevel::kError, "embedded_log", "truncate_failed", {{"error", std::strerror(errno)}});
          }
          std::string what = std::string("embedded log write failed: ") + std::strerror(err);
          result = err == ENOSPC || err == EDQUOT ? NoSpace(std::move(what)) : Unavailable(std::move(what));
        }
      }
      if (!ok) {
        Log(LogLevel::kError, "embedded_log", "write_failed", {{"error", result.message()}});
      } else if (failing) {
        Log(LogLevel::kInfo, "embedded_log", "write_recovered", {});
      }

      lock.lock();
      failing = !ok;
      if (!ok) {
        failure = result;
        failed_at = std::chrono::steady_clock::now();
      }
      int64_t first = seg->end();  // the batch's first offset
      if (ok) {
        seg->positions.insert(seg->positions.end(), new_positions.begin(), new_positions.end());
        seg->file_end = end;
        seg->last_write_ms = WallMs();
      }
      lock.unlock();
      appended_cv.notify_all();
      std::vector<int64_t> offsets;
      for (Pending& p : batch) {
        offsets.clear();
        if (ok) {
          for (size_t i = 0; i < p.record_sizes.size(); ++i) offsets.push_back(first + static_cast<int64_t>(i));
        }
        p.done(result, 0, offsets);
        first += static_cast<int64_t>(p.record_sizes.size());
      }
      lock.lock();
    }
  }

  // Reads records [from, from + max) that are durable, from the segment holding `from`
  // (a read stops at its end; the next one goes on in the next segment); `buf` is the
  // caller's scratch, kept between reads so its pages stay mapped.
  Status Read(int64_t from, size_t max, std::vector<ConsumedRecord>& out, std::string& buf) const {
    std::vector<std::pair<uint64_t, uint64_t>> spans;
    std::shared_ptr<Segment> seg;
    {
      std::lock_guard l(mu);
      if (from < First()) {
        return FailedPrecondition("records before offset " + std::to_string(First()) +
                                  " were dropped by the log's retention");
      }
      auto it = std::upper_bound(segments.begin(), segments.end(), from,
                                 [](int64_t o, const std::shared_ptr<Segment>& s) { return o < s->base; });
      seg = *(it - 1);
      const int64_t end = seg->end();
      for (int64_t o = from; o < end && spans.size() < max; ++o) {
        const size_t i = static_cast<size_t>(o - seg->base);
        uint64_t begin = seg->positions[i];
        uint64_t next = o + 1 < end ? seg->positions[i + 1] : seg->file_end;
        spans.emplace_back(begin, next);
      }
    }
    // Records lie end to end in the file: read them in a few large preads (one syscall
    // per kReadChunk, not one per record), then cut the records out of the buffer.
    constexpr uint64_t kReadChunk = 4u << 20;
    out.reserve(out.size() + spans.size());
    for (size_t i = 0; i < spans.size();) {
      uint64_t chunk_begin = spans[i].first;
      size_t j = i + 1;  // records [i, j) in this read; at least one, however large
      while (j < spans.size() && spans[j].second - chunk_begin <= kReadChunk) ++j;
      uint64_t chunk_end = spans[j - 1].second;
      buf.resize(chunk_end - chunk_begin);
      if (pread(seg->fd, buf.data(), buf.size(), static_cast<off_t>(chunk_begin)) != static_cast<ssize_t>(buf.size())) {
        return Unavailable("embedded log read failed");
      }
      for (; i < j; ++i) {
        const char* rec = buf.data() + (spans[i].first - chunk_begin);
        size_t len = spans[i].second - spans[i].first;
        uint32_t key_len = Get32(reinterpret_cast<const unsigned char*>(rec + 8));
        out.push_back({0, from + static_cast<int64_t>(i), std::string(rec + kHeader, key_len),
                       std::string(rec + kHeader + key_len, len - kHeader - key_len)});
      }
    }
    return Status::Ok();
  }
};

namespace {

class EmbeddedSubscriber final : public Subscriber {
 public:
  EmbeddedSubscriber(std::shared_ptr<EmbeddedLog::Impl> log, int64_t start, bool history_lost)
      : log_(std::move(log)), position_(start), history_lost_(history_lost) {}

  Result<std::vector<ConsumedRecord>> Poll(std::chrono::milliseconds timeout, size_t max) override {
    {
      std::unique_lock l(log_->mu);
      log_->appended_cv.wait_for(l, timeout, [&] { return log_->End() > position_ || log_->stop; });
    }
    std::vector<ConsumedRecord> out;
    RETURN_IF_ERROR(log_->Read(position_, max, out, buffer_));
    position_ += static_cast<int64_t>(out.size());
    return out;
  }
  Status Seek(int partition, int64_t offset) override {
    if (partition != 0) return InvalidArgument("the embedded log has partition 0 only");
    position_ = offset;
    return Status::Ok();
  }
  // The offsets reported here are durable in the processor's state (it reports them
  // after the WAL sync): the log's retention may drop what lies before them.
  void CommitForLag(const std::map<int, int64_t>& next_offsets) override {
    auto it = next_offsets.find(0);
    if (it == next_offsets.end()) return;
    std::lock_guard l(log_->mu);
    log_->applied = std::max(log_->applied, it->second);
  }
  std::set<int> Assigned() const override { return {0}; }
  std::set<int> HistoryLost() const override { return history_lost_ ? std::set<int>{0} : std::set<int>{}; }
  std::map<int, int64_t> Lag() override {
    std::lock_guard l(log_->mu);
    return {{0, std::max<int64_t>(0, log_->End() - position_)}};
  }
  std::optional<int> PartitionOf(std::string_view) override { return 0; }
  void Close() override {}

 private:
  std::shared_ptr<EmbeddedLog::Impl> log_;
  int64_t position_;
  const bool history_lost_;
  std::string buffer_;  // Read's scratch
};

}  // namespace

Result<std::unique_ptr<EmbeddedLog>> EmbeddedLog::Open(const EmbeddedLogConfig& config) {
  if (config.dir.empty()) return InvalidArgument("bus.embedded.dir is required");
  if (config.name.size() < 5 || config.name.compare(config.name.size() - 4, 4, ".log") != 0) {
    return InvalidArgument("an embedded log's name ends in .log");
  }
  std::error_code ec;
  std::filesystem::create_directories(config.dir, ec);
  if (ec) return Unavailable("cannot create " + config.dir + ": " + ec.message());
  auto impl = std::make_shared<Impl>();
  impl->config = config;
  impl->stem = config.name.substr(0, config.name.size() - 4);
  Result<FileLock> lock =
      FileLock::Acquire(config.dir + "/" + impl->stem + ".lock", "the embedded log " + config.dir + "/" + config.name);
  if (!lock.ok()) return lock.status();
  impl->lock = std::move(*lock);
  RETURN_IF_ERROR(impl->Load());
  Impl* raw = impl.get();
  impl->writer = StartThread("tm-log-writer", [raw] { raw->WriterLoop(); });
  return std::unique_ptr<EmbeddedLog>(new EmbeddedLog(std::move(impl)));
}

EmbeddedLog::EmbeddedLog(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

EmbeddedLog::~EmbeddedLog() {
  {
    std::lock_guard l(impl_->mu);
    impl_->stop = true;
  }
  impl_->writer_cv.notify_all();
  impl_->appended_cv.notify_all();
  impl_->writer.join();  // writes and acknowledges everything queued before stopping
  impl_->lock = FileLock();  // closed: another may open it (a subscriber may still read)
}

void EmbeddedLog::Publish(std::span<const BusRecord> records, Done done) {
  PublishPlaced(records, [done = std::move(done)](Status s, int, std::span<const int64_t>) { done(std::move(s)); });
}

void EmbeddedLog::PublishPlaced(std::span<const BusRecord> records, Placed done) {
  if (records.empty()) {
    done(Status::Ok(), 0, {});
    return;
  }
  // [body length | kCrc32cFlag][CRC-32C of body][body = key length, key, value] per record
  Impl::Pending pending;
  size_t total = 0;
  size_t max_record = std::min(impl_->config.max_record_bytes, kMaxBody - 4);
  for (const BusRecord& r : records) {
    if (r.key.size() + r.value.size() > max_record) {
      done(InvalidArgument("an embedded log record holds at most " + std::to_string(max_record) +
                           " bytes; this one has " + std::to_string(r.key.size() + r.value.size())),
           0, {});
      return;
    }
    total += kHeader + r.key.size() + r.value.size();
  }
  pending.bytes.resize(total);
  pending.record_sizes.reserve(records.size());
  char* at = pending.bytes.data();
  for (const BusRecord& r : records) {
    size_t body = 4 + r.key.size() + r.value.size();
    Set32(at, static_cast<uint32_t>(body) | kCrc32cFlag);
    Set32(at + 8, static_cast<uint32_t>(r.key.size()));
    std::memcpy(at + kHeader, r.key.data(), r.key.size());
    std::memcpy(at + kHeader + r.key.size(), r.value.data(), r.value.size());
    Set32(at + 4, Crc32c(at + 8, body));
    pending.record_sizes.push_back(static_cast<uint32_t>(8 + body));
    at += 8 + body;
  }
  pending.done = std::move(done);
  {
    std::lock_guard l(impl_->mu);
    if (impl_->stop) {
      // fall through to the refusal below, outside the lock
    } else if (impl_->queued_records + records.size() > impl_->config.max_pending_records) {
      // fall through
    } else {
      impl_->queued_records += records.size();
      impl_->queue.push_back(std::move(pending));
      impl_->writer_cv.notify_one();
      return;
    }
  }
  pending.done(ResourceExhausted("embedded log write queue is full"), 0, {});
}

Status EmbeddedLog::Ready() const {
  if (!impl_->failing.load()) return Status::Ok();
  std::lock_guard l(impl_->mu);
  if (!impl_->failing.load()) return Status::Ok();
  if (impl_->failure.code() == Code::kNoSpace) {
    struct statvfs fs;
    if (fstatvfs(impl_->segments.back()->fd, &fs) == 0 &&
        static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize >= Impl::kRoomToRetry) {
      return Status::Ok();
    }
    return impl_->failure;
  }
  if (std::chrono::steady_clock::now() - impl_->failed_at >= Impl::kRetryAfterFailure) {
    return Status::Ok();
  }
  return impl_->failure;
}

size_t EmbeddedLog::InFlight() const {
  std::lock_guard l(impl_->mu);
  return impl_->queued_records;
}

Status EmbeddedLog::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock l(impl_->mu);
  bool drained = impl_->appended_cv.wait_for(l, timeout, [&] { return impl_->queue.empty(); });
  return drained ? Status::Ok() : DeadlineExceeded("embedded log still has queued records");
}

int64_t EmbeddedLog::End() const {
  std::lock_guard l(impl_->mu);
  return impl_->End();
}

int64_t EmbeddedLog::First() const {
  std::lock_guard l(impl_->mu);
  return impl_->First();
}

uint64_t EmbeddedLog::DiskBytes() const {
  std::lock_guard l(impl_->mu);
  uint64_t bytes = 0;
  for (const auto& seg : impl_->segments) bytes += seg->file_end;
  return bytes;
}

uint64_t EmbeddedLog::RepairedBytes() const { return impl_->repaired; }

Result<std::unique_ptr<Subscriber>> EmbeddedLog::Subscribe(Subscriber::NextOffsetFn next_offset) {
  Result<std::optional<int64_t>> stored = next_offset(0);
  if (!stored.ok()) return stored.status();
  int64_t start = stored->value_or(0);
  if (start > End()) {
    return FailedPrecondition("the processor state has consumed " + std::to_string(start) +
                              " records but the embedded log holds only " + std::to_string(End()) +
                              ": the log was replaced or truncated under the state; refusing to start");
  }
  // A state that needs records retention has dropped (no state, or one older than the
  // log's start) is rebuilt from what is left, and said to be partial.
  const int64_t first = First();
  const bool lost = start < first;
  if (lost) {
    Log(LogLevel::kError, "embedded_log", "history_lost",
        {{"state_next_offset", std::to_string(start)}, {"log_start", std::to_string(first)},
         {"meaning", "the state cannot be rebuilt exactly; totals are partial"}});
    start = first;
  }
  {
    std::lock_guard l(impl_->mu);
    impl_->applied = start;
  }
  return std::unique_ptr<Subscriber>(new EmbeddedSubscriber(impl_, start, lost));
}

}  // namespace tokenmeter
