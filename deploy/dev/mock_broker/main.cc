// tokenmeter-mock-broker: a development Kafka (librdkafka's mock cluster) for the edge,
// kcat and test harnesses running as separate processes. See --help.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "mock_cluster.h"

namespace {

constexpr const char* kUsage =
    "Usage: tokenmeter-mock-broker [--brokers N] [--topic NAME[:PARTITIONS]]...\n"
    "                              [--bootstrap-file FILE]\n"
    "\n"
    "Starts librdkafka's mock Kafka cluster on 127.0.0.1 (default 3 brokers, topics\n"
    "tokenmeter.events:4, tokenmeter.events.dlq:1, tokenmeter.workspace-status:1,\n"
    "tokenmeter.settings:1, tokenmeter.processors:1 and "
    "tokenmeter.outcomes:1), prints 'bootstrap <servers>' on\n"
    "stdout and then reads fault commands, one per line, answering 'ok' or 'error ...':\n"
    "  down <broker|-1>                 take a broker (or all) down\n"
    "  up <broker|-1>                   bring it back\n"
    "  rtt <broker|-1> <ms>             add round-trip latency\n"
    "  err <apikey> <count> <ERROR>     fail the next <count> requests of an API\n"
    "  errrtt <broker> <apikey> <ERROR>:<ms>...   delayed responses with errors\n"
    "  clear <apikey>                   drop pending injected errors\n"
    "  leader <topic> <partition> <broker>\n"
    "  topic <name> <partitions>        create a topic\n"
    "ERROR is a librdkafka error name (NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT,\n"
    "_TRANSPORT, ...) or number; apikey is the Kafka protocol number (Produce 0).\n"
    "Runs until SIGTERM/SIGINT (end of stdin does not stop it). The mock keeps ~5 MiB per\n"
    "partition and drops older data beyond that.\n";

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

}  // namespace

int main(int argc, char** argv) {
  int brokers = 3;
  std::vector<tokenmeter::MockTopic> topics;
  std::string bootstrap_file;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n%s", a.c_str(), kUsage);
      return 2;
    }
    std::string v = argv[++i];
    if (a == "--brokers") {
      brokers = std::stoi(v);
    } else if (a == "--topic") {
      size_t colon = v.find(':');
      topics.push_back({v.substr(0, colon), colon == std::string::npos ? 1 : std::stoi(v.substr(colon + 1))});
    } else if (a == "--bootstrap-file") {
      bootstrap_file = v;
    } else {
      std::fprintf(stderr, "unknown option %s\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  if (topics.empty()) {
    topics = {{"tokenmeter.events", 4},
              {"tokenmeter.events.dlq", 1},
              {"tokenmeter.workspace-status", 1},
              {"tokenmeter.settings", 1},
              {"tokenmeter.processors", 1},
              {"tokenmeter.outcomes", 1}};
  }
  auto cluster = tokenmeter::MockCluster::Create(brokers, topics);
  if (!cluster.ok()) {
    std::fprintf(stderr, "mock broker: %s\n", cluster.status().ToString().c_str());
    return 1;
  }
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  signal(SIGPIPE, SIG_IGN);
  if (!bootstrap_file.empty()) {
    std::string tmp = bootstrap_file + ".tmp";
    std::ofstream(tmp) << (*cluster)->bootstrap_servers() << "\n";
    std::rename(tmp.c_str(), bootstrap_file.c_str());  // readers never see a partial file
  }
  std::printf("bootstrap %s\n", (*cluster)->bootstrap_servers().c_str());
  std::fflush(stdout);

  bool stdin_open = true;
  std::string pending;
  while (!g_stop) {
    if (!stdin_open) {
      pause();
      continue;
    }
    pollfd pfd{STDIN_FILENO, POLLIN, 0};
    if (poll(&pfd, 1, 200) <= 0) continue;
    char buf[4096];
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n <= 0) {
      stdin_open = false;
      continue;
    }
    pending.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (line.empty()) continue;
      std::printf("%s\n", (*cluster)->Execute(line).c_str());
      std::fflush(stdout);
    }
  }
  return 0;
}
