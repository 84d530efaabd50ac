// tokenmeter: the one binary. Dispatches to a subcommand; everything else lives in the
// modules it wires together.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands.h"

namespace {

constexpr const char* kUsage =
    "tokenmeter - LLM cost telemetry pipeline\n"
    "\n"
    "Usage: tokenmeter <command> [options]\n"
    "\n"
    "Commands:\n"
    "  serve --config FILE        everything in one process, no Kafka (the quickstart)\n"
    "  edge --config FILE         run the ingest edge (HTTP -> Kafka)\n"
    "  processor --config FILE    run a processor (Kafka -> dedup, pricing, rollups in RocksDB)\n"
    "  keys create --workspace W  create an API key; prints it once with its config lines\n"
    "  config export              print a workspace's live settings as config YAML (admin API)\n"
    "  workspace create --workspace W   a new workspace and its first owner key (admin API)\n"
    "  help                       this text\n"
    "\n"
    "Run 'tokenmeter <command> --help' for a command's options.\n";

// glibc gives each thread that allocates its own heap ("arena"), up to 8 per core, and
// memory freed in one is not reused by another: the processor's threads (the consumer's,
// RocksDB's, the batch helpers) each would hold freed memtable and batch memory. 4 arenas
// keep the RSS lower at the same speed (2: less memory, slower).
// glibc also raises its mmap threshold to the largest block freed (up to 32 MiB), so a
// batch's multi-MiB WriteBatch and the fold's buffers would stay resident between uses;
// the processor fixes it at 1 MiB, which maps and unmaps them instead (the hot paths keep
// their large buffers between batches, so it costs them nothing). Not for serve, where it
// cost CPU per event end to end (figures: benchmarks/results/malloc-tuning.md).
// MALLOC_ARENA_MAX and MALLOC_MMAP_THRESHOLD_ still override.
void TuneMalloc(bool fixed_mmap_threshold) {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 4);
  if (fixed_mmap_threshold && std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) {
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string command = args[0];
  args.erase(args.begin());
  if (command == "edge") return tokenmeter::RunEdge(args);
  if (command == "keys") return tokenmeter::RunKeys(args);
  if (command == "config") return tokenmeter::RunConfig(args);
  if (command == "workspace") return tokenmeter::RunWorkspace(args);
  if (command == "processor" || command == "serve") TuneMalloc(/*fixed_mmap_threshold=*/command == "processor");
  if (command == "processor") return tokenmeter::RunProcessor(args);
  if (command == "serve") return tokenmeter::RunServe(args);
  std::fprintf(stderr, "tokenmeter: unknown command \"%s\"\n\n%s", command.c_str(), kUsage);
  return 2;
}
