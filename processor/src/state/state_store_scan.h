// StateStore::Scan (a template, so it lives in a header).
#ifndef TOKENMETER_PROCESSOR_STATE_STATE_STORE_SCAN_H_
#define TOKENMETER_PROCESSOR_STATE_STATE_STORE_SCAN_H_

#include <rocksdb/db.h>

#include <string_view>

namespace tokenmeter {

template <typename Fn>
Status StateStore::Scan(Family f, const std::string& begin, const std::string& end, Fn fn, const Snapshot* at,
                        bool bulk) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = !bulk;
  if (at != nullptr) ro.snapshot = at->snap_;
  rocksdb::Slice upper(end);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handle(f)));
  for (it->Seek(begin); it->Valid(); it->Next()) {
    if (!fn(std::string_view(it->key().data(), it->key().size()),
            std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
  }
  if (!it->status().ok()) return Unavailable("rocksdb scan: " + it->status().ToString());
  return Status::Ok();
}

template <typename Fn>
Status StateStore::ScanSeeking(Family f, const std::string& begin, const std::string& end, Fn fn,
                               const Snapshot* at) const {
  rocksdb::ReadOptions ro;
  if (at != nullptr) ro.snapshot = at->snap_;
  rocksdb::Slice upper(end);
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, handle(f)));
  std::string seek;
  for (it->Seek(begin); it->Valid();) {
    if (!fn(std::string_view(it->key().data(), it->key().size()),
            std::string_view(it->value().data(), it->value().size()), seek)) {
      break;
    }
    if (seek.empty()) {
      it->Next();
    } else {
      it->Seek(seek);
      seek.clear();
    }
  }
  if (!it->status().ok()) return Unavailable("rocksdb scan: " + it->status().ToString());
  return Status::Ok();
}

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_STATE_STATE_STORE_SCAN_H_
