// The HTTP load generator: N keep-alive connections on one thread, closed loop (as fast
// as answers come) or paced at a fixed rate, with a ledger of every answer. Only the
// expected status with the full accepted count is throughput; a 503 or a short count is
// a failure. Latency is measured from the moment a paced request was due (not when it
// was sent), so a slow server cannot hide queueing. A second thread can measure
// ingest -> queryable: it sends a marker event, then polls the query API for it.
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_args.h"
#include "bench_events.h"
#include "bench_http.h"
#include "bench_report.h"

namespace tokenmeter::bench {
namespace {

struct LoadConfig {
  std::string host = "127.0.0.1";
  std::string port;
  std::string path = "/v1/ingest";
  std::string key;
  int connections = 64;
  double duration_s = 10;
  double rate = 0;  // requests per second; 0 = closed loop
  int batch = 1;
  int expect_status = 202;
  uint64_t max_events = 0;  // stop sending after this many events (0: run for duration_s)
  StreamShape shape;
};

struct Ledger {
  uint64_t ok = 0, failed = 0, transport_errors = 0, status_503 = 0, events = 0;
  std::vector<uint32_t> latency_us;
};

class Load;

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(asio::io_context& ioc, Load& load) : sock_(ioc), timer_(ioc), load_(load) {}
  void Start(const tcp::endpoint& ep);

 private:
  void Next();
  void Send(Clock::time_point due);
  void OnResponse(beast::error_code ec, Clock::time_point due);
  void Reconnect();

  tcp::socket sock_;
  asio::steady_timer timer_;
  Load& load_;
  tcp::endpoint ep_;
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
};

class Load {
 public:
  explicit Load(LoadConfig c) : config_(std::move(c)) {
    ledger_.latency_us.reserve(1 << 20);
    if (config_.rate > 0) interval_ = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / config_.rate));
  }

  Ledger Run() {
    asio::io_context ioc;
    tcp::endpoint ep(asio::ip::make_address(config_.host), static_cast<uint16_t>(std::stoi(config_.port)));
    start_ = Clock::now();
    next_due_ = start_;
    deadline_ = start_ + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config_.duration_s));
    for (int i = 0; i < config_.connections; ++i) std::make_shared<Conn>(ioc, *this)->Start(ep);
    // In-flight requests at the deadline finish (bounded: 10 s more at most).
    ioc.run_for(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(config_.duration_s + 10)));
    elapsed_s_ = std::chrono::duration<double>(last_done_ - start_).count();
    return std::move(ledger_);
  }

  const LoadConfig& config() const { return config_; }
  double elapsed_s() const { return elapsed_s_; }
  bool Stopped() const {
    return Clock::now() >= deadline_ || (config_.max_events > 0 && seq_ >= config_.max_events);
  }

  // The first tick of the pacing grid at or after `due`. A paced request waits for that
  // tick, not its own instant: every wake-up of the generator's thread is a context switch
  // (the dearest thing it does on this VM), and with one timer per instant a paced run
  // woke once a request; on the grid, the requests due within a tick go out together.
  // Latency is still measured from when each was due, so the wait (a tick at most) counts
  // against the server, never for it.
  Clock::time_point TickAt(Clock::time_point due) const {
    auto ticks = (due - start_ + kPacingTick - Clock::duration(1)) / kPacingTick;
    return start_ + ticks * kPacingTick;
  }
  static constexpr Clock::duration kPacingTick = std::chrono::microseconds(250);

  // When the next request is due (paced), or now (closed loop).
  Clock::time_point NextDue() {
    if (config_.rate <= 0) return Clock::now();
    Clock::time_point t = next_due_;
    next_due_ += interval_;
    return t;
  }

  void FillBody(std::string& body) {
    body.clear();
    if (config_.batch == 1) {
      AppendIngestEvent(config_.shape, LogicalIndex(config_.shape, seq_++), body);
      return;
    }
    body = "{\"events\":[";
    for (int i = 0; i < config_.batch; ++i) {
      if (i) body.push_back(',');
      AppendIngestEvent(config_.shape, LogicalIndex(config_.shape, seq_++), body);
    }
    body += "]}";
  }

  void Record(const http::response<http::string_body>& res, Clock::time_point due) {
    Clock::time_point now = Clock::now();
    last_done_ = now;
    bool good = static_cast<int>(res.result_int()) == config_.expect_status;
    uint64_t accepted = 0;
    if (good && config_.expect_status == 202) {
      // The answer must account for every event as accepted.
      size_t at = res.body().find("\"accepted\":");
      accepted = at == std::string::npos ? 0 : std::strtoull(res.body().c_str() + at + 11, nullptr, 10);
      good = accepted == static_cast<uint64_t>(config_.batch);
    }
    if (res.result_int() == 503) ++ledger_.status_503;
    if (!good) {
      if (ledger_.failed++ < 3) {
        std::fprintf(stderr, "unexpected answer %u: %.200s\n", res.result_int(), res.body().c_str());
      }
      return;
    }
    ++ledger_.ok;
    ledger_.events += config_.expect_status == 202 ? accepted : 1;
    ledger_.latency_us.push_back(
        static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(now - due).count()));
  }
  void TransportError(const beast::error_code& ec) {
    if (ledger_.transport_errors++ < 3) std::fprintf(stderr, "transport error: %s\n", ec.message().c_str());
    last_done_ = Clock::now();
  }

 private:
  LoadConfig config_;
  Ledger ledger_;
  uint64_t seq_ = 0;
  Clock::time_point start_, next_due_, deadline_, last_done_;
  Clock::duration interval_{};
  double elapsed_s_ = 0;
};

void Conn::Start(const tcp::endpoint& ep) {
  ep_ = ep;
  auto self = shared_from_this();
  sock_.async_connect(ep_, [self](beast::error_code ec) {
    if (ec) {
      self->load_.TransportError(ec);
      return;
    }
    self->sock_.set_option(tcp::no_delay(true));
    self->Next();
  });
}

void Conn::Next() {
  if (load_.Stopped()) return;
  Clock::time_point due = load_.NextDue();
  if (due <= Clock::now()) {
    Send(due);
    return;
  }
  timer_.expires_at(load_.TickAt(due));
  auto self = shared_from_this();
  timer_.async_wait([self, due](beast::error_code ec) {
    if (!ec) self->Send(due);
  });
}

void Conn::Send(Clock::time_point due) {
  const LoadConfig& c = load_.config();
  req_ = {};
  req_.method(http::verb::post);
  req_.target(c.path);
  req_.version(11);
  req_.set(http::field::host, c.host);
  req_.set(http::field::content_type, "application/json");
  req_.set("X-API-Key", c.key);
  load_.FillBody(req_.body());
  req_.prepare_payload();
  auto self = shared_from_this();
  http::async_write(sock_, req_, [self, due](beast::error_code ec, size_t) {
    if (ec) {
      self->load_.TransportError(ec);
      self->Reconnect();
      return;
    }
    self->res_ = {};
    http::async_read(self->sock_, self->buf_, self->res_,
                     [self, due](beast::error_code ec2, size_t) { self->OnResponse(ec2, due); });
  });
}

void Conn::OnResponse(beast::error_code ec, Clock::time_point due) {
  if (ec) {
    load_.TransportError(ec);
    Reconnect();
    return;
  }
  load_.Record(res_, due);
  if (!res_.keep_alive()) {
    Reconnect();
    return;
  }
  Next();
}

void Conn::Reconnect() {
  beast::error_code ignored;
  sock_.close(ignored);  // a fresh socket for the next attempt
  buf_.clear();
  if (load_.Stopped()) return;
  Start(ep_);
}

// Ingest -> queryable: every `every_ms`, one marker event; the time from its 202 until
// GET <visible_path><id> answers 200.
struct VisibleProbe {
  LoadConfig config;
  std::string visible_path, read_key;
  double every_ms = 100;
  std::vector<uint32_t> latency_us;
  std::vector<float> acked_s;  // each marker's 202, seconds after the probe started
  uint64_t failed = 0;

  void Run(std::atomic<bool>& stop) {
    asio::io_context ioc;
    beast::tcp_stream post(ioc), get(ioc);
    tcp::endpoint ep(asio::ip::make_address(config.host), static_cast<uint16_t>(std::stoi(config.port)));
    beast::error_code ec;
    post.socket().connect(ep, ec);
    get.socket().connect(ep, ec);
    StreamShape shape = config.shape;
    shape.prefix += "-vis";
    const auto started = Clock::now();
    for (uint64_t k = 0; !stop.load(); ++k) {
      auto tick = Clock::now();
      std::string body;
      AppendIngestEvent(shape, k, body);
      http::response<http::string_body> res;
      if (!Exchange(post, http::verb::post, config.path, config.key, body, res) || res.result_int() != 202) {
        ++failed;
        break;
      }
      auto acked = Clock::now();
      std::string target = visible_path + shape.prefix + "-" + std::to_string(k);
      bool seen = false;
      while (!seen && Clock::now() - acked < std::chrono::seconds(10)) {
        if (!Exchange(get, http::verb::get, target, read_key, "", res)) break;
        if (res.result_int() == 200) {
          seen = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
      if (!seen) {
        ++failed;
      } else {
        latency_us.push_back(static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - acked).count()));
        acked_s.push_back(std::chrono::duration<float>(acked - started).count());
      }
      std::this_thread::sleep_until(tick + std::chrono::microseconds(static_cast<int64_t>(every_ms * 1000)));
    }
  }
};

}  // namespace

// http --port P --key K [--path /v1/ingest] [--connections 64] [--duration-s 10]
//      [--rate R] [--batch 1] [--expect 202] [--prefix b] [--max-events N]
//      [--shape realistic --events N --span-days D --duplicate-every K]
//      [--visible-path /v1/events/ --read-key K --visible-every-ms 100 [--visible-trace F]]
// --visible-trace writes one line per marker, "<seconds into the run> <ms until visible>",
// to line a slow stretch up with what else ran then.
int RunHttpLoad(const Args& a) {
  LoadConfig c;
  c.host = a.Str("host", "127.0.0.1");
  c.port = a.Str("port");
  c.path = a.Str("path", "/v1/ingest");
  c.key = a.Str("key");
  c.connections = static_cast<int>(a.Num("connections", 64));
  c.duration_s = a.Num("duration-s", 10);
  c.rate = a.Num("rate", 0);
  c.batch = static_cast<int>(a.Num("batch", 1));
  c.expect_status = static_cast<int>(a.Num("expect", 202));
  c.shape.prefix = a.Str("prefix", "b");
  c.shape.workspaces = 1;
  if (a.Str("shape", "simple") == "realistic") c.shape = ShapeFrom(a);  // with --duplicate-every: retries
  c.max_events = static_cast<uint64_t>(a.Num("max-events", 0));
  if (c.port.empty() || c.connections < 1 || c.batch < 1) {
    std::fprintf(stderr, "http: --port and a positive --connections and --batch are required\n");
    return 2;
  }
  std::atomic<bool> stop{false};
  std::unique_ptr<VisibleProbe> probe;
  std::thread probe_thread;
  if (a.Has("visible-path")) {
    probe = std::make_unique<VisibleProbe>();
    probe->config = c;
    probe->visible_path = a.Str("visible-path");
    probe->read_key = a.Str("read-key");
    probe->every_ms = a.Num("visible-every-ms", 100);
    probe_thread = std::thread([&] { probe->Run(stop); });
  }
  double cpu0 = ProcessCpuSeconds();
  Load load(c);
  Ledger l = load.Run();
  stop = true;
  if (probe_thread.joinable()) probe_thread.join();
  if (probe && a.Has("visible-trace")) {  // before Percentile reorders the latencies
    std::FILE* f = std::fopen(a.Str("visible-trace").c_str(), "w");
    if (f == nullptr) {
      std::fprintf(stderr, "http: cannot write %s\n", a.Str("visible-trace").c_str());
      return 2;
    }
    for (size_t i = 0; i < probe->latency_us.size(); ++i)
      std::fprintf(f, "%.3f %.1f\n", probe->acked_s[i], probe->latency_us[i] / 1000.0);
    std::fclose(f);
  }
  Report r;
  r.Add("requests", static_cast<double>(l.ok + l.failed));
  r.Add("ok", static_cast<double>(l.ok));
  r.Add("failed", static_cast<double>(l.failed + l.transport_errors));
  r.Add("status_503", static_cast<double>(l.status_503));
  r.Add("events", static_cast<double>(l.events));
  r.Add("seconds", load.elapsed_s());
  r.Add("requests_per_s", static_cast<double>(l.ok) / load.elapsed_s());
  r.Add("events_per_s", static_cast<double>(l.events) / load.elapsed_s());
  r.Add("p50_ms", Percentile(l.latency_us, 0.5) / 1000);
  r.Add("p99_ms", Percentile(l.latency_us, 0.99) / 1000);
  r.Add("client_cpu_s", ProcessCpuSeconds() - cpu0);
  if (probe) {
    r.Add("visible_n", static_cast<double>(probe->latency_us.size()));
    r.Add("visible_failed", static_cast<double>(probe->failed));
    r.Add("visible_p50_ms", Percentile(probe->latency_us, 0.5) / 1000);
    r.Add("visible_p99_ms", Percentile(probe->latency_us, 0.99) / 1000);
  }
  r.Print();
  return (l.failed + l.transport_errors > 0 || (probe && probe->failed > 0)) ? 1 : 0;
}

// ingest-body [--prefix b]: prints one single-event ingest body (the wrk phases' body).
int RunIngestBody(const Args& a) {
  StreamShape shape;
  shape.prefix = a.Str("prefix", "b");
  std::string body;
  AppendIngestEvent(shape, 0, body);
  std::printf("%s\n", body.c_str());
  return 0;
}

}  // namespace tokenmeter::bench
