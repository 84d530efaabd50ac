// Topic names shared by every process (defaults; each is configurable).
#ifndef TOKENMETER_BUS_TOPICS_H_
#define TOKENMETER_BUS_TOPICS_H_

namespace tokenmeter {

inline constexpr const char* kEventsTopic = "tokenmeter.events";
inline constexpr const char* kEventsDlqTopic = "tokenmeter.events.dlq";
// Compacted; key = workspace, value = the processor's latest WorkspaceStatus.
inline constexpr const char* kWorkspaceStatusTopic = "tokenmeter.workspace-status";
inline constexpr const char* kSettingsTopic = "tokenmeter.settings";
// Compacted; key = a processor's URL, value = the partitions it answers for (directory).
inline constexpr const char* kProcessorsTopic = "tokenmeter.processors";

}  // namespace tokenmeter

#endif  // TOKENMETER_BUS_TOPICS_H_
