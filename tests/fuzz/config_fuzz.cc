// Fuzz target: the YAML config file. Any text must load or be refused with a message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config_file.h"

using namespace tokenmeter;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Result<AppConfig> c = LoadConfigText(std::string(reinterpret_cast<const char*>(data), size));
  if (!c.ok() && c.status().message().empty()) __builtin_trap();
  return 0;
}
