// Shutdown signals for the subcommands: block SIGTERM/SIGINT before any thread starts
// (so only the main thread's sigwait sees them), then wait for one.
#ifndef TOKENMETER_DEPLOY_SIGNALS_H_
#define TOKENMETER_DEPLOY_SIGNALS_H_

namespace tokenmeter {

void BlockShutdownSignals();
// Blocks until SIGTERM or SIGINT; returns "TERM" or "INT".
const char* WaitForShutdownSignal();

}  // namespace tokenmeter

#endif  // TOKENMETER_DEPLOY_SIGNALS_H_
