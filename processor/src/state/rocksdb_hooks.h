// What tokenmeter plugs into RocksDB so that a full disk is ridden out, not fatal.
//
// Debian's RocksDB is built with assertions: a file writer that has seen a failed write
// (ENOSPC) aborts the process on its next write or sync. Two such writers are RocksDB's
// own: its LOG file, and the WAL once a commit's append failed.
//  * NewRocksLogger: RocksDB's warnings and errors as our structured log lines on stderr
//    (component "rocksdb"); no LOG file (informational lines are dropped: it was never
//    read), so the recovery from a full disk cannot abort by logging that it started.
//  * NewManualRecoveryListener: turns off RocksDB's automatic recovery from a full disk.
//    That recovery waits for the largest memtable's size (64 MiB) to be free, and then
//    resumes writes on its own thread. StateStore::Recover resumes instead, from the
//    thread that failed, once it is asked, so nothing writes before the store knows.
// Any thread: RocksDB calls both from its background threads.
#ifndef TOKENMETER_PROCESSOR_STATE_ROCKSDB_HOOKS_H_
#define TOKENMETER_PROCESSOR_STATE_ROCKSDB_HOOKS_H_

#include <rocksdb/env.h>
#include <rocksdb/listener.h>

#include <memory>

namespace tokenmeter {

std::shared_ptr<rocksdb::Logger> NewRocksLogger();
std::shared_ptr<rocksdb::EventListener> NewManualRecoveryListener();

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_STATE_ROCKSDB_HOOKS_H_
