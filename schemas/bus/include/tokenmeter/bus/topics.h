// Topic names shared by every process (defaults; each is configurable).
#ifndef TOKENMETER_BUS_TOPICS_H_
#define TOKENMETER_BUS_TOPICS_H_

namespace tokenmeter {

inline constexpr const char* kEventsTopic = "tokenmeter.events";
inline constexpr const char* kEventsDlqTopic = "tokenmeter.events.dlq";
// Compacted; key = workspace, value = the processor's latest WorkspaceStatus.
inline constexpr const char* kWorkspaceStatusTopic = "tokenmeter.workspace-status";
inline constexpr const char* kSettingsTopic = "tokenmeter.settings";

}  // namespace tokenmeter

#endif  // TOKENMETER_BUS_TOPICS_H_
