// tokenmeter-bench: the phases of benchmarks/run.sh, one subcommand each. Every phase
// prints one line of name=value figures and exits non-zero on any error it saw.
#include <cstdio>
#include <cstring>
#include <string>

#include "bench_args.h"

namespace tokenmeter::bench {
int RunKafkaProduce(const Args& a);
int RunKafkaConsume(const Args& a);
int RunKafkaAcks(const Args& a);
int RunRocksDb(const Args& a);
int RunJson(const Args& a);
int RunHttpLoad(const Args& a);
int RunWaitMetric(const Args& a);
int RunCpu(const Args& a);
int RunIngestBody(const Args& a);
int RunPipeline(const Args& a);
int RunRealisticCsv(const Args& a);
int RunQueries(const Args& a);
int RunCompact(const Args& a);

bool Args::Parse(int argc, char** argv, int first) {
  for (int i = first; i < argc; i += 2) {
    if (std::strncmp(argv[i], "--", 2) != 0 || i + 1 >= argc) {
      std::fprintf(stderr, "expected --name value, got %s\n", argv[i]);
      return false;
    }
    values_[argv[i] + 2] = argv[i + 1];
  }
  return true;
}
}  // namespace tokenmeter::bench

int main(int argc, char** argv) {
  using namespace tokenmeter::bench;
  constexpr const char* kUsage =
      "Usage: tokenmeter-bench <phase> [--option value]...\n"
      "Phases: kafka-produce, kafka-consume, kafka-acks, rocksdb, json, http, wait-metric, cpu, ingest-body,\n        pipeline, realistic-csv, queries, compact\n"
      "(see benchmarks/README.md; benchmarks/run.sh runs them all)\n";
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  Args a;
  if (!a.Parse(argc, argv, 2)) return 2;
  std::string phase = argv[1];
  try {
    if (phase == "kafka-produce") return RunKafkaProduce(a);
    if (phase == "kafka-consume") return RunKafkaConsume(a);
    if (phase == "kafka-acks") return RunKafkaAcks(a);
    if (phase == "rocksdb") return RunRocksDb(a);
    if (phase == "json") return RunJson(a);
    if (phase == "http") return RunHttpLoad(a);
    if (phase == "wait-metric") return RunWaitMetric(a);
    if (phase == "cpu") return RunCpu(a);
    if (phase == "ingest-body") return RunIngestBody(a);
    if (phase == "pipeline") return RunPipeline(a);
    if (phase == "realistic-csv") return RunRealisticCsv(a);
    if (phase == "queries") return RunQueries(a);
    if (phase == "compact") return RunCompact(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", phase.c_str(), e.what());
    return 1;
  }
  std::fputs(kUsage, stderr);
  return 2;
}
