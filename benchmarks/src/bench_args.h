// Command-line options of the form `--name value`, with typed getters and defaults.
#ifndef TOKENMETER_BENCHMARKS_BENCH_ARGS_H_
#define TOKENMETER_BENCHMARKS_BENCH_ARGS_H_

#include <cstdlib>
#include <map>
#include <string>

namespace tokenmeter::bench {

class Args {
 public:
  // Parses argv[first..]; false (and a message on stderr) on a malformed list.
  bool Parse(int argc, char** argv, int first);
  std::string Str(const std::string& name, const std::string& def = "") const {
    auto it = values_.find(name);
    return it == values_.end() ? def : it->second;
  }
  double Num(const std::string& name, double def) const {
    auto it = values_.find(name);
    return it == values_.end() ? def : std::strtod(it->second.c_str(), nullptr);
  }
  bool Has(const std::string& name) const { return values_.count(name) > 0; }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace tokenmeter::bench

#endif  // TOKENMETER_BENCHMARKS_BENCH_ARGS_H_
