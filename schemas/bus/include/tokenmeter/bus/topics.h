// Topic names shared by every process (defaults; each is configurable).
#ifndef TOKENMETER_BUS_TOPICS_H_
#define TOKENMETER_BUS_TOPICS_H_

namespace tokenmeter {

inline constexpr const char* kEventsTopic = "tokenmeter.events";
inline constexpr const char* kEventsDlqTopic = "tokenmeter.events.dlq";

}  // namespace tokenmeter

#endif  // TOKENMETER_BUS_TOPICS_H_
