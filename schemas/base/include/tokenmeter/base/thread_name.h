// Named threads: NameThisThread("tm-...") gives the calling thread a name that `top -H`,
// `ps -L`, /proc/<pid>/task/*/comm and perf show, so an operator (or a benchmark) can tell
// which part of a process spends the CPU. Linux keeps at most 15 characters; longer names
// are cut. StartThread(name, body) starts a thread that names itself, then runs body.
// Thread-safe; failures are ignored (a name is a diagnostic, never a dependency).
#ifndef TOKENMETER_BASE_THREAD_NAME_H_
#define TOKENMETER_BASE_THREAD_NAME_H_

#include <thread>
#include <utility>

namespace tokenmeter {

void NameThisThread(const char* name);

template <typename Body>
std::thread StartThread(const char* name, Body&& body) {
  return std::thread([name, body = std::forward<Body>(body)]() mutable {
    NameThisThread(name);
    body();
  });
}

}  // namespace tokenmeter

#endif  // TOKENMETER_BASE_THREAD_NAME_H_
