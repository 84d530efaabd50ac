// Watches a Prometheus counter on a process's /metrics until it reaches a target: the
// rate between the first change and the target, and the process's CPU seconds and RSS
// over the same window (from /proc). This is how the processor phase is timed without
// touching the processor.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>

#include "bench_args.h"
#include "bench_http.h"
#include "bench_report.h"

namespace tokenmeter::bench {
namespace {

// The sum of every series of `name` in a text exposition; -1 when the scrape failed.
double Scrape(const std::string& port, const std::string& name) {
  try {
    asio::io_context ioc;
    beast::tcp_stream s(ioc);
    s.expires_after(std::chrono::seconds(5));
    s.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(std::stoi(port))));
    http::response<http::string_body> res;
    if (!Exchange(s, http::verb::get, "/metrics", "", "", res)) return -1;
    double sum = 0;
    std::istringstream in(res.body());
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
      char next = line[name.size()];
      if (next != ' ' && next != '{') continue;
      sum += std::strtod(line.c_str() + line.rfind(' ') + 1, nullptr);
    }
    return sum;
  } catch (const std::exception&) {
    return -1;
  }
}

double CpuSecondsOf(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(text.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {  // fields 14 and 15: utime, stime (ticks)
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double StatusMib(int pid, const std::string& field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::strtod(line.c_str() + field.size() + 1, nullptr) / 1024.0;
  }
  return 0;
}

}  // namespace

// wait-metric --port P --metric NAME --target N [--timeout-s 120] [--pid PID]
int RunWaitMetric(const Args& a) {
  std::string port = a.Str("port"), name = a.Str("metric");
  double target = a.Num("target", 0), timeout_s = a.Num("timeout-s", 120);
  int pid = static_cast<int>(a.Num("pid", 0));
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  // The window opens at the last scrape before the value first moved (so a run shorter
  // than one scrape interval still has a duration), and closes at the target.
  double base = -1, v = -1, cpu0 = 0, from = 0, cpu_before = 0;
  Clock::time_point first{}, before{};
  while (Clock::now() < deadline) {
    Clock::time_point at = Clock::now();
    double cpu_at = pid ? CpuSecondsOf(pid) : 0;
    v = Scrape(port, name);
    if (v >= 0 && base < 0) base = v;
    if (v >= 0 && first == Clock::time_point{}) {
      if (v > base) {
        first = before == Clock::time_point{} ? at : before;
        from = base;
        cpu0 = before == Clock::time_point{} ? cpu_at : cpu_before;
      } else {
        before = at;
        cpu_before = cpu_at;
      }
    }
    // Reached; or, if the value never moved, it stood at the target from the first scrape
    // (the work finished before the watch began, as a small chunk or drain can): the wait
    // is over, with no window to time. It waited out its whole timeout before.
    if (v >= target) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (v < target) {
    std::fprintf(stderr, "wait-metric: %s reached %.0f of %.0f in %.0f s\n", name.c_str(), v, target, timeout_s);
    return 1;
  }
  Report r;
  r.Add("value", v);
  if (first != Clock::time_point{}) {
    double secs = SecondsSince(first);
    r.Add("seconds", secs);
    r.Add("per_s", (v - from) / secs);
  } else {
    std::fprintf(stderr, "wait-metric: %s was at %.0f (target %.0f) when first read: no rate\n",
                 name.c_str(), v, target);
    cpu0 = cpu_before;
  }
  if (pid) {
    r.Add("cpu_s", CpuSecondsOf(pid) - cpu0);
    r.Add("rss_mib", StatusMib(pid, "VmRSS"));
    r.Add("hwm_mib", StatusMib(pid, "VmHWM"));
  }
  r.Print();
  return 0;
}

// cpu --pid PID: the process's CPU seconds so far (user + system).
int RunCpu(const Args& a) {
  Report r;
  r.Add("cpu_s", CpuSecondsOf(static_cast<int>(a.Num("pid", 0))));
  r.Print();
  return 0;
}

}  // namespace tokenmeter::bench
