// FileLock: an exclusive advisory lock (flock) on a file, held until destroyed, so two
// processes never write the same data at once (two `tokenmeter serve` on one data_dir:
// the second is refused before it reads, repairs or appends to a log the first writes).
// The lock goes with the process, however it ends. Thread: any.
#ifndef TOKENMETER_BASE_FILE_LOCK_H_
#define TOKENMETER_BASE_FILE_LOCK_H_

#include <string>

#include "tokenmeter/base/status.h"

namespace tokenmeter {

class FileLock {
 public:
  FileLock() = default;
  FileLock(FileLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  FileLock& operator=(FileLock&& o) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

  // Creates `path` if missing and locks it. Fails with kFailedPrecondition, naming `what`,
  // when another holder has it (another process, or another lock in this one).
  static Result<FileLock> Acquire(const std::string& path, const std::string& what);

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_BASE_FILE_LOCK_H_
