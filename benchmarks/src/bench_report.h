// How every phase reports: one line of `name=value` pairs on stdout, read by run.sh.
// Any thread (but phases print once, at the end).
#ifndef TOKENMETER_BENCHMARKS_BENCH_REPORT_H_
#define TOKENMETER_BENCHMARKS_BENCH_REPORT_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace tokenmeter::bench {

class Report {
 public:
  void Add(const std::string& name, double v) {
    char buf[64];
    // Never an exponent: run.sh does its arithmetic with bc, which reads 1.04e+06 as 1.04.
    double mag = v < 0 ? -v : v;
    std::snprintf(buf, sizeof(buf), (mag == 0 || (mag >= 1e-4 && mag < 1e6)) ? "%.6g" : "%.6f", v);
    fields_.emplace_back(name, buf);
  }
  // A value that is not a number (an id); it must hold no space or '='.
  void AddText(const std::string& name, const std::string& v) { fields_.emplace_back(name, v); }
  void Print() const {
    std::string line;
    for (const auto& [k, v] : fields_) {
      if (!line.empty()) line.push_back(' ');
      line += k + "=" + v;
    }
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

inline double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The process's own CPU seconds (user + system), all threads.
double ProcessCpuSeconds();

// Percentile `q` (0..1) of `v` (sorted in place); 0 when empty.
double Percentile(std::vector<uint32_t>& v, double q);

}  // namespace tokenmeter::bench

#endif  // TOKENMETER_BENCHMARKS_BENCH_REPORT_H_
