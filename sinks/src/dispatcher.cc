// The sinks' flow, top to bottom: outbox -> (per sink) due deliveries -> attempt ->
// classify -> record (delivered / retry at / dead).
#include "tokenmeter/sinks/dispatcher.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "email/email_sender.h"
#include "retry/retry_schedule.h"
#include "sender.h"
#include "sinks_probe.h"
#include "tokenmeter/base/crash_point.h"
#include "tokenmeter/base/log.h"
#include "tokenmeter/base/thread_name.h"
#include "webhook/webhook_sender.h"

namespace tokenmeter {

struct Dispatcher::Worker {
  std::string sink;
  std::unique_ptr<Sender> sender;
  std::unique_ptr<SinksProbe> probe;
  std::thread thread;
  std::mutex mu;
  std::condition_variable wake;
  bool stop = false;
  bool disabled = false;  // a 410: no more attempts until restart or reconfiguration
  std::mt19937_64 rng{std::random_device{}()};

  // Waits up to `d`; false once stopped.
  bool Sleep(std::chrono::milliseconds d) {
    std::unique_lock lock(mu);
    wake.wait_for(lock, d, [&] { return stop; });
    return !stop;
  }
  bool Stopped() {
    std::lock_guard lock(mu);
    return stop;
  }

  // Records the outcome of one attempt on `d`.
  Delivery Apply(Delivery d, const AttemptOutcome& o, const RetryPolicy& retry, int64_t now_ms, bool& dead) {
    ++d.attempts;
    if (d.first_attempt_ms == 0) d.first_attempt_ms = now_ms;
    d.last_error = o.kind == AttemptOutcome::Kind::kDelivered ? "" : o.detail;
    dead = false;
    switch (o.kind) {
      case AttemptOutcome::Kind::kDelivered:
        d.state = DeliveryState::kDelivered;
        d.done_ms = now_ms;
        return d;
      case AttemptOutcome::Kind::kGone:
        return d;  // stays pending: nothing is lost while the endpoint is disabled
      case AttemptOutcome::Kind::kPermanent:
        dead = true;
        break;
      case AttemptOutcome::Kind::kRetry: {
        double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        std::optional<int64_t> next =
            NextAttemptMs(retry, d.attempts, now_ms, d.first_attempt_ms, o.retry_after_ms, unit);
        if (next) {
          d.next_attempt_ms = *next;
          return d;
        }
        dead = true;
        d.last_error += " (retry horizon reached)";
        break;
      }
    }
    d.state = DeliveryState::kDead;
    d.done_ms = now_ms;
    return d;
  }

  void Run(Outbox& outbox, const RetryPolicy& retry, const Clock& clock) {
    auto poll = std::chrono::milliseconds(retry.poll_interval_ms);
    while (!Stopped()) {
      if (disabled) {
        if (!Sleep(poll)) return;
        continue;
      }
      Result<std::vector<Delivery>> due = outbox.Due(sink, clock.Now(), 32);
      if (!due.ok()) {
        Log(LogLevel::kError, "sinks", "outbox_read_failed", {{"sink", sink}, {"error", due.status().ToString()}});
        if (!Sleep(poll)) return;
        continue;
      }
      if (due->empty() && !Sleep(poll)) return;
      for (const Delivery& d : *due) {
        if (Stopped() || disabled) break;
        auto started = std::chrono::steady_clock::now();
        CrashPoint("before_alert_send");
        AttemptOutcome o = sender->Send(d, clock.Now());
        CrashPoint("after_alert_send_before_record");
        bool dead = false;
        Delivery after = Apply(d, o, retry, clock.Now().time_since_epoch().count(), dead);
        probe->Attempt(o.kind, dead, std::chrono::steady_clock::now() - started);
        Status s = outbox.Record(after);
        if (!s.ok()) {
          // The attempt is retried later (at least once); receivers drop repeats by id.
          Log(LogLevel::kError, "sinks", "outbox_write_failed", {{"sink", sink}, {"error", s.ToString()}});
        }
        if (o.kind == AttemptOutcome::Kind::kGone) {
          disabled = true;
          probe->Disabled(true);
          Log(LogLevel::kError, "sinks", "sink_disabled", {{"sink", sink}, {"reason", o.detail}});
        } else if (dead) {
          Log(LogLevel::kError, "sinks", "alert_dead",
              {{"sink", sink}, {"alert", d.alert_id}, {"attempts", std::to_string(after.attempts)},
               {"error", after.last_error}});
        } else if (o.kind == AttemptOutcome::Kind::kRetry) {
          Log(LogLevel::kWarn, "sinks", "attempt_failed",
              {{"sink", sink}, {"alert", d.alert_id}, {"attempt", std::to_string(after.attempts)},
               {"error", o.detail}});
        }
      }
    }
  }
};

Dispatcher::Dispatcher(Outbox& outbox, const RetryPolicy& retry, const Clock& clock,
                       prometheus::Registry& registry)
    : outbox_(outbox), retry_(retry), clock_(clock), registry_(registry) {}

Dispatcher::~Dispatcher() { Stop(); }

Result<std::unique_ptr<Dispatcher>> Dispatcher::Create(Outbox& outbox, const std::vector<SinkConfig>& sinks,
                                                       const RetryPolicy& retry, const Clock& clock,
                                                       prometheus::Registry& registry) {
  RETURN_IF_ERROR(ValidateSinks(sinks, retry));
  auto d = std::make_unique<Dispatcher>(outbox, retry, clock, registry);
  auto timeout = std::chrono::milliseconds(retry.attempt_timeout_ms);
  for (const SinkConfig& s : sinks) {
    std::unique_ptr<Sender> sender;
    if (s.kind == SinkKind::kWebhook) {
      Result<std::unique_ptr<WebhookSender>> w = WebhookSender::Create(s.webhook, timeout);
      if (!w.ok()) return Status(w.status().code(), "sink " + s.id + ": " + w.status().message());
      sender = std::move(*w);
    } else {
      Result<std::unique_ptr<EmailSender>> e = EmailSender::Create(s.email, timeout);
      if (!e.ok()) return Status(e.status().code(), "sink " + s.id + ": " + e.status().message());
      sender = std::move(*e);
    }
    d->AddSink(s.id, std::move(sender));
  }
  return d;
}

void Dispatcher::AddSink(const std::string& id, std::unique_ptr<Sender> sender) {
  auto w = std::make_unique<Worker>();
  w->sink = id;
  w->sender = std::move(sender);
  w->probe = std::make_unique<SinksProbe>(registry_, id);
  workers_.push_back(std::move(w));
}

void Dispatcher::Start() {
  for (auto& w : workers_) {
    Worker* worker = w.get();
    w->thread = StartThread("tm-alert-send", [this, worker] { worker->Run(outbox_, retry_, clock_); });
  }
}

void Dispatcher::Stop() {
  for (auto& w : workers_) {
    {
      std::lock_guard lock(w->mu);
      w->stop = true;
    }
    w->wake.notify_all();
  }
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

Status ValidateSinks(const std::vector<SinkConfig>& sinks, const RetryPolicy& retry) {
  std::vector<std::string> ids;
  for (const SinkConfig& s : sinks) {
    if (s.id.empty() || s.id.find_first_of(",\n\r") != std::string::npos || s.id.find('\0') != std::string::npos) {
      return InvalidArgument("every sink needs an id without commas or control characters");
    }
    if (std::find(ids.begin(), ids.end(), s.id) != ids.end()) return InvalidArgument("sink " + s.id + " is defined twice");
    ids.push_back(s.id);
    if (s.kind == SinkKind::kWebhook) {
      if (s.webhook.secrets.empty()) return InvalidArgument("sink " + s.id + ": a webhook needs secrets");
      Result<HttpUrl> u = ParseHttpUrl(s.webhook.url);
      if (!u.ok()) return InvalidArgument("sink " + s.id + ": " + u.status().message());
    } else {
      if (s.email.smtp_url.rfind("smtp://", 0) != 0 && s.email.smtp_url.rfind("smtps://", 0) != 0) {
        return InvalidArgument("sink " + s.id + ": smtp_url must start with smtp:// or smtps://");
      }
      if (s.email.from.empty() || s.email.to.empty()) {
        return InvalidArgument("sink " + s.id + ": an email sink needs from and at least one to");
      }
    }
  }
  if (retry.initial_backoff_ms < 1 || retry.max_backoff_ms < retry.initial_backoff_ms) {
    return InvalidArgument("alerts.retry: need 1 <= initial_backoff_ms <= max_backoff_ms");
  }
  if (retry.horizon_s < 1) return InvalidArgument("alerts.retry.horizon_s must be >= 1");
  if (retry.attempt_timeout_ms < 100) return InvalidArgument("alerts.retry.attempt_timeout_ms must be >= 100");
  if (retry.poll_interval_ms < 10) return InvalidArgument("alerts.retry.poll_interval_ms must be >= 10");
  return Status::Ok();
}

}  // namespace tokenmeter
