// Crash points for crash tests (tests/e2e/crash_points.sh). CrashPoint("name") raises SIGKILL
// when the environment variable TOKENMETER_CRASH_AT is "name" (first hit) or "name:N"
// (the Nth hit), so a test can kill the process at an exact place in the commit order.
// The variable is read once; when it is unset a call costs one relaxed atomic load.
// Thread-safe.
//
// Points: after_batch_built, after_dead_letters_before_commit, after_commit,
// before_rollup_fold, after_rollup_fold, cleanup_staged (processor);
// after_durable_before_response (edge); before_alert_send, after_alert_send_before_record
// (sinks).
#ifndef TOKENMETER_BASE_CRASH_POINT_H_
#define TOKENMETER_BASE_CRASH_POINT_H_

namespace tokenmeter {

void CrashPoint(const char* name);

}  // namespace tokenmeter

#endif  // TOKENMETER_BASE_CRASH_POINT_H_
