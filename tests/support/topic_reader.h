// Reads every record of a Kafka topic from the beginning to the current end (a real
// librdkafka consumer, assigned to all partitions). For asserting what the edge produced.
#ifndef TOKENMETER_TESTS_SUPPORT_TOPIC_READER_H_
#define TOKENMETER_TESTS_SUPPORT_TOPIC_READER_H_

#include <string>
#include <vector>

namespace tokenmeter::testing {

struct TopicRecord {
  int partition = 0;
  long long offset = 0;
  std::string key;
  std::string value;
};

// Fails the calling test (via ADD_FAILURE) and returns what it has if the end is not
// reached within 20 s.
std::vector<TopicRecord> ReadTopic(const std::string& bootstrap, const std::string& topic);

}  // namespace tokenmeter::testing

#endif  // TOKENMETER_TESTS_SUPPORT_TOPIC_READER_H_
