// The sink dispatcher against real receivers on loopback: an SMTP server (Debian's
// python3-aiosmtpd) and an HTTP server. The outbox is an in-memory fake of our own
// interface; libcurl, the SMTP dialogue, Beast and the retry policy are the real ones.
//   - e-mail arrives with the subject, recipients, Message-ID and body a person needs;
//   - SMTP 4xx is retried until accepted; 5xx ends dead after one attempt;
//   - STARTTLS required and not offered: refused, nothing sent in plaintext;
//   - HTTP 410 disables the webhook sink (deliveries stay queued); 3xx is not followed.
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "email/email_sender.h"
#include "temp_dir.h"
#include "tokenmeter/http/http_server.h"
#include "tokenmeter/model/alert.h"
#include "tokenmeter/sinks/dispatcher.h"

namespace tokenmeter {
namespace {

namespace fs = std::filesystem;

class MemoryOutbox final : public Outbox {
 public:
  void Add(Delivery d) {
    std::lock_guard lock(mu_);
    rows_[{d.sink, d.alert_id}] = std::move(d);
  }
  Result<std::vector<Delivery>> Due(std::string_view sink, TimePoint now, size_t limit) override {
    std::lock_guard lock(mu_);
    std::vector<Delivery> out;
    for (const auto& [k, d] : rows_) {
      if (k.first == sink && d.state == DeliveryState::kPending &&
          d.next_attempt_ms <= now.time_since_epoch().count() && out.size() < limit) {
        out.push_back(d);
      }
    }
    return out;
  }
  Status Record(const Delivery& d) override {
    std::lock_guard lock(mu_);
    rows_[{d.sink, d.alert_id}] = d;
    return Status::Ok();
  }
  Result<OutboxDepth> Depth() const override { return OutboxDepth{}; }
  Delivery Get(const std::string& sink, const std::string& id) {
    std::lock_guard lock(mu_);
    return rows_.at({sink, id});
  }

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Delivery> rows_;
};

// Polls `pred` every 20 ms for up to `limit`.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

Delivery MakeDelivery(const std::string& sink, const std::string& id) {
  Alert a;
  a.id = id;
  a.workspace = "acme";
  a.type = AlertType::kBudgetExceeded;
  a.severity = AlertSeverity::kCritical;
  a.scope = {{"budget", "monthly"}};
  a.window_start = TimePoint(std::chrono::milliseconds(1'793'491'200'000));  // 2026-11-01
  a.window_end = TimePoint(std::chrono::milliseconds(1'796'083'200'000));    // 2026-12-01
  a.unit = "usd";
  a.observed = "500.120000000";
  a.threshold = "500.000000000";
  a.message = "Budget \"monthly\" of workspace acme for 2026-11 (UTC): exceeded its limit of $500.00.";
  a.at = TimePoint(std::chrono::milliseconds(1'795'000'000'000));
  Delivery d;
  d.sink = sink;
  d.alert_id = id;
  d.alert_json = EncodeAlertJson(a);
  return d;
}

class SmtpServer {
 public:
  explicit SmtpServer(const fs::path& dir) : dir_(dir) {
    fs::create_directories(dir_ / "mail");
    std::string port_file = (dir_ / "port").string(), out = (dir_ / "mail").string();
    pid_ = fork();
    if (pid_ == 0) {
      execl("/usr/bin/python3", "python3", TM_SMTP_RECEIVER, port_file.c_str(), out.c_str(), nullptr);
      _exit(127);
    }
    EXPECT_TRUE(Eventually([&] { return fs::exists(port_file); })) << "SMTP receiver did not start";
    std::ifstream(port_file) >> port_;
  }
  ~SmtpServer() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  int port() const { return port_; }
  size_t Received() const {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_ / "mail")) n += e.path().extension() == ".json";
    return n;
  }
  std::string Read(const std::string& name) const {
    std::ifstream in(dir_ / "mail" / name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  fs::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

class SinksDeliveryTest : public ::testing::Test {
 protected:
  SinksDeliveryTest() {
    retry_.initial_backoff_ms = 50;
    retry_.max_backoff_ms = 100;
    retry_.attempt_timeout_ms = 2000;
    retry_.poll_interval_ms = 20;
  }
  SinkConfig Email(const std::string& id, std::vector<std::string> to, StartTls tls) {
    SinkConfig s;
    s.id = id;
    s.kind = SinkKind::kEmail;
    s.email.smtp_url = "smtp://127.0.0.1:" + std::to_string(smtp_.port());
    s.email.from = "tokenmeter@example.com";
    s.email.to = std::move(to);
    s.email.starttls = tls;
    return s;
  }
  std::string Metrics() { return prometheus::TextSerializer().Serialize(registry_.Collect()); }

  testing::TempDir dir_{"tm-sinks"};
  SmtpServer smtp_{dir_.path()};
  MemoryOutbox outbox_;
  RetryPolicy retry_;
  SystemClock clock_;
  prometheus::Registry registry_;
};

TEST_F(SinksDeliveryTest, MailArrivesWithSubjectRecipientsMessageIdAndBody) {
  outbox_.Add(MakeDelivery("mail", "alrt_00000000000000000000000000000001"));
  auto d = Dispatcher::Create(outbox_, {Email("mail", {"ops@example.com", "cfo@example.com"}, StartTls::kOff)},
                              retry_, clock_, registry_);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  (*d)->Start();
  ASSERT_TRUE(Eventually([&] {
    return outbox_.Get("mail", "alrt_00000000000000000000000000000001").state == DeliveryState::kDelivered;
  }));
  (*d)->Stop();
  ASSERT_EQ(smtp_.Received(), 1u);
  EXPECT_EQ(smtp_.Read("0.json"),
            R"({"mail_from": "tokenmeter@example.com", "rcpt_tos": ["ops@example.com", "cfo@example.com"]})");
  std::string mail = smtp_.Read("0.eml");
  EXPECT_NE(mail.find("From: tokenmeter@example.com\r\n"), std::string::npos) << mail;
  EXPECT_NE(mail.find("To: ops@example.com, cfo@example.com\r\n"), std::string::npos);
  EXPECT_NE(mail.find("Subject: [tokenmeter] acme: budget_exceeded (budget=monthly)\r\n"), std::string::npos);
  EXPECT_NE(mail.find("Message-ID: <alrt_00000000000000000000000000000001@tokenmeter>\r\n"), std::string::npos);
  EXPECT_NE(mail.find("\r\n\r\nBudget \"monthly\" of workspace acme for 2026-11 (UTC): exceeded its limit of "
                      "$500.00.\r\n\r\nWorkspace: acme\r\nAlert: budget_exceeded (critical, firing)\r\n"
                      "Scope: budget=monthly\r\nObserved: 500.120000000 usd\r\nThreshold: 500.000000000 usd\r\n"
                      "Window: 2026-11-01T00:00:00.000Z to 2026-12-01T00:00:00.000Z\r\n"),
            std::string::npos)
      << mail;
  EXPECT_NE(mail.find("Where to look: GET /v1/alerts"), std::string::npos);
  EXPECT_NE(Metrics().find("tokenmeter_alert_deliveries_total{outcome=\"delivered\",sink=\"mail\"} 1"),
            std::string::npos);
}

TEST_F(SinksDeliveryTest, TemporaryRepliesAreRetriedPermanentOnesEndDead) {
  outbox_.Add(MakeDelivery("flaky", "alrt_flaky"));
  outbox_.Add(MakeDelivery("reject", "alrt_reject"));
  auto d = Dispatcher::Create(outbox_,
                              {Email("flaky", {"flaky@example.com"}, StartTls::kOff),
                               Email("reject", {"reject@example.com"}, StartTls::kOff)},
                              retry_, clock_, registry_);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  (*d)->Start();
  ASSERT_TRUE(Eventually([&] { return outbox_.Get("flaky", "alrt_flaky").state == DeliveryState::kDelivered; }));
  ASSERT_TRUE(Eventually([&] { return outbox_.Get("reject", "alrt_reject").state == DeliveryState::kDead; }));
  (*d)->Stop();
  EXPECT_EQ(outbox_.Get("flaky", "alrt_flaky").attempts, 3u);  // 451, 451, accepted
  Delivery dead = outbox_.Get("reject", "alrt_reject");
  EXPECT_EQ(dead.attempts, 1u);
  EXPECT_NE(dead.last_error.find("(SMTP 550)"), std::string::npos) << dead.last_error;
  EXPECT_EQ(smtp_.Received(), 1u);
  EXPECT_NE(Metrics().find("tokenmeter_alert_deliveries_total{outcome=\"dead\",sink=\"reject\"} 1"),
            std::string::npos);
  EXPECT_NE(Metrics().find("tokenmeter_alert_deliveries_total{outcome=\"retry\",sink=\"flaky\"} 2"),
            std::string::npos);
}

TEST_F(SinksDeliveryTest, StartTlsRequiredButNotOfferedIsRefusedWithoutPlaintext) {
  outbox_.Add(MakeDelivery("tls", "alrt_tls"));
  auto d = Dispatcher::Create(outbox_, {Email("tls", {"ops@example.com"}, StartTls::kRequired)}, retry_, clock_,
                              registry_);
  ASSERT_TRUE(d.ok());
  (*d)->Start();
  ASSERT_TRUE(Eventually([&] { return outbox_.Get("tls", "alrt_tls").attempts >= 1; }));
  (*d)->Stop();
  Delivery after = outbox_.Get("tls", "alrt_tls");
  EXPECT_NE(after.state, DeliveryState::kDelivered);
  EXPECT_EQ(after.last_error,
            "the server does not offer STARTTLS, which this sink requires; nothing was sent in plaintext");
  EXPECT_EQ(smtp_.Received(), 0u);
}

// An HTTP receiver on loopback with a fixed answer, counting requests.
class FixedReceiver final : public HttpHandler {
 public:
  explicit FixedReceiver(HttpResponse r) : response_(std::move(r)) {}
  void Handle(HttpRequest, Respond respond) override {
    ++requests;
    respond(response_);
  }
  std::atomic<int> requests{0};

 private:
  HttpResponse response_;
};

SinkConfig Webhook(const std::string& id, uint16_t port) {
  SinkConfig s;
  s.id = id;
  s.webhook.url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  s.webhook.secrets = {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
  return s;
}

TEST_F(SinksDeliveryTest, GoneDisablesTheWebhookAndKeepsItsDeliveriesQueued) {
  HttpResponse gone;
  gone.status = 410;
  FixedReceiver receiver(gone);
  HttpServerConfig hc;
  hc.port = 0;
  HttpServer server(hc, receiver);
  ASSERT_TRUE(server.Start().ok());
  outbox_.Add(MakeDelivery("hook", "alrt_a"));
  outbox_.Add(MakeDelivery("hook", "alrt_b"));
  auto d = Dispatcher::Create(outbox_, {Webhook("hook", server.port())}, retry_, clock_, registry_);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  (*d)->Start();
  ASSERT_TRUE(Eventually([&] { return Metrics().find("tokenmeter_sink_disabled{sink=\"hook\"} 1") != std::string::npos; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // several poll intervals: no more attempts
  (*d)->Stop();
  server.Stop(std::chrono::milliseconds(500));
  EXPECT_EQ(receiver.requests.load(), 1);
  Delivery a = outbox_.Get("hook", "alrt_a");
  EXPECT_EQ(a.state, DeliveryState::kPending);
  EXPECT_EQ(a.attempts, 1u);
  EXPECT_EQ(a.last_error.rfind("HTTP 410 Gone", 0), 0u) << a.last_error;
  EXPECT_EQ(outbox_.Get("hook", "alrt_b").attempts, 0u);
}

TEST_F(SinksDeliveryTest, RedirectsAreNotFollowed) {
  HttpResponse moved;
  moved.status = 301;
  moved.headers.emplace_back("Location", "http://127.0.0.1:9/elsewhere");
  FixedReceiver receiver(moved);
  HttpServerConfig hc;
  hc.port = 0;
  HttpServer server(hc, receiver);
  ASSERT_TRUE(server.Start().ok());
  outbox_.Add(MakeDelivery("hook", "alrt_r"));
  auto d = Dispatcher::Create(outbox_, {Webhook("hook", server.port())}, retry_, clock_, registry_);
  ASSERT_TRUE(d.ok());
  (*d)->Start();
  ASSERT_TRUE(Eventually([&] { return outbox_.Get("hook", "alrt_r").attempts >= 2; }));
  (*d)->Stop();
  server.Stop(std::chrono::milliseconds(500));
  Delivery r = outbox_.Get("hook", "alrt_r");
  EXPECT_EQ(r.state, DeliveryState::kPending);
  EXPECT_EQ(r.last_error, "HTTP 301: redirect to http://127.0.0.1:9/elsewhere not followed");
}

}  // namespace
}  // namespace tokenmeter
