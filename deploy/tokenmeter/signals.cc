#include "signals.h"

#include <pthread.h>
#include <signal.h>

namespace tokenmeter {
namespace {

sigset_t ShutdownSet() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGTERM);
  sigaddset(&s, SIGINT);
  return s;
}

}  // namespace

void BlockShutdownSignals() {
  sigset_t s = ShutdownSet();
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
}

const char* WaitForShutdownSignal() {
  sigset_t s = ShutdownSet();
  int sig = 0;
  sigwait(&s, &sig);
  return sig == SIGTERM ? "TERM" : "INT";
}

}  // namespace tokenmeter
