#include "owner_routing.h"

#include "tokenmeter/base/log.h"
#include "tokenmeter/base/thread_name.h"
#include "tokenmeter/http/http_forward.h"
#include "tokenmeter/http/json_error.h"

namespace tokenmeter {
namespace {

constexpr size_t kMaxQueued = 256;                               // questions waiting to be sent on

HttpResponse Unanswerable(std::string_view reason, const std::string& message) {
  HttpResponse r = JsonError(503, reason, message);
  r.headers.emplace_back("Retry-After", "2");
  return r;
}

std::string PartitionText(int p) { return "partition " + std::to_string(p) + " of the events topic"; }

}  // namespace

Result<std::unique_ptr<DirectoryFollower>> DirectoryFollower::Start(const KafkaConfig& kafka,
                                                                    ProcessorDirectory& directory) {
  KafkaConsumerConfig cc = WholeTopicReader(kafka.bootstrap_servers, kafka.processors_topic, kafka.properties,
                                            "tokenmeter-directory-reader", 50);
  auto consumer = KafkaConsumer::Create(cc, [](int) { return Result<std::optional<int64_t>>(std::nullopt); });
  if (!consumer.ok()) return consumer.status();
  return std::unique_ptr<DirectoryFollower>(new DirectoryFollower(std::move(*consumer), directory));
}

DirectoryFollower::DirectoryFollower(std::unique_ptr<KafkaConsumer> consumer, ProcessorDirectory& directory)
    : consumer_(std::move(consumer)), directory_(directory) {
  thread_ = StartThread("tm-directory", [this] {
    while (!stop_.load()) {
      Result<std::vector<ConsumedRecord>> records = consumer_->Poll(std::chrono::milliseconds(100), 1000);
      if (!records.ok()) continue;
      const auto now = std::chrono::steady_clock::now();
      for (const ConsumedRecord& r : *records) directory_.Apply(r.key, r.value, now);
    }
  });
}

DirectoryFollower::~DirectoryFollower() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  consumer_->Close();
}

std::function<void(const std::set<int>&, const std::set<int>&)> ClaimPublisher(
    std::shared_ptr<Publisher> publisher, std::shared_ptr<const std::string> self, const Clock& clock) {
  return [publisher, self, &clock](const std::set<int>& serving, const std::set<int>& catching_up) {
    const std::string& url = *self;
    ProcessorClaim claim{url, serving, catching_up, clock.Now().time_since_epoch().count()};
    const BusRecord record{url, EncodeProcessorClaim(claim)};
    publisher->Publish({&record, 1}, [url](Status s) {
      if (!s.ok()) Log(LogLevel::kWarn, "processor", "claim_publish_failed", {{"url", url}, {"error", s.ToString()}});
    });
    if (serving.empty() && catching_up.empty()) (void)publisher->Flush(std::chrono::seconds(2));  // stopping
  };
}

OwnerRouting::OwnerRouting(ProcessorRunner& runner, const ProcessorDirectory& directory, const KeyRing& keys,
                           const Clock& clock)
    : runner_(runner), directory_(directory), keys_(keys), clock_(clock) {
  for (int i = 0; i < 4; ++i) workers_.push_back(StartThread("tm-forward", [this] { Work(); }));
}

OwnerRouting::~OwnerRouting() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void OwnerRouting::Work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job();
  }
}

void OwnerRouting::Handle(HttpRequest request, Respond respond) {
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  static const std::vector<std::string> kPrefixes = ProcessorRunner::RoutePrefixes();
  bool about_workspace = false;
  for (const std::string& prefix : kPrefixes) about_workspace |= path.starts_with(prefix);
  KeyRejection why;
  KeyRef key = about_workspace ? keys_.Verify(request.api_key, why, clock_.Now().time_since_epoch().count()) : nullptr;
  if (key == nullptr) return runner_.Handle(std::move(request), std::move(respond));  // ops, or a 401 from the API

  using Kind = ProcessorRunner::Standing::Kind;
  const ProcessorRunner::Standing here = runner_.StandingOf(key->workspace);
  switch (here.kind) {
    case Kind::kServing:
      return runner_.Handle(std::move(request), std::move(respond));
    case Kind::kCatchingUp:
      return respond(Unanswerable("catching_up", "this processor took over " + PartitionText(here.partition) +
                                                      " and is still applying its records; retry shortly"));
    case Kind::kUnknown:
      return respond(Unanswerable("partitions_unknown",
                                  "the events topic's partitions are not known yet (the brokers have not answered)"));
    case Kind::kElsewhere:
      break;
  }
  if (request.forwarded) {  // sent here by a processor whose directory was a moment behind
    return respond(Unanswerable("rebalancing", PartitionText(here.partition) + " has just moved; retry shortly"));
  }
  const ProcessorDirectory::Owner owner =
      directory_.OwnerOf(here.partition, std::chrono::steady_clock::now(), clock_.Now().time_since_epoch().count());
  using OwnerKind = ProcessorDirectory::Owner::Kind;
  if (owner.kind == OwnerKind::kCatchingUp) {
    return respond(Unanswerable("catching_up", "processor " + owner.url + " took over " +
                                                   PartitionText(here.partition) +
                                                   " and is still applying its records; retry shortly"));
  }
  // (A stale claim of this processor's own is sent back here marked forwarded: 503.)
  if (owner.kind != OwnerKind::kServing) {
    return respond(Unanswerable("rebalancing", "no processor answers for " + PartitionText(here.partition) +
                                                   " right now (a rebalance, or its owner stopped); retry shortly"));
  }
  Forward(owner.url, std::move(request), std::move(respond));
}

void OwnerRouting::Forward(std::string url, HttpRequest request, Respond respond) {
  std::unique_lock lock(mu_);
  if (queue_.size() >= kMaxQueued) {
    lock.unlock();
    return respond(Unanswerable("busy", "too many questions are waiting to be sent on to other processors"));
  }
  queue_.push_back([url = std::move(url), request = std::move(request), respond = std::move(respond)] {
    Result<HttpResponse> answer = ForwardHttp(url, request);
    if (!answer.ok()) {
      Log(LogLevel::kWarn, "processor", "forward_failed", {{"to", url}, {"error", answer.status().ToString()}});
      return respond(answer.status().code() == Code::kResourceExhausted
                         ? Unanswerable("answer_too_large", answer.status().message() + "; ask " + url + " directly")
                         : Unanswerable("owner_unreachable", "the processor that owns this workspace (" + url +
                                                                 ") cannot be reached: " + answer.status().message()));
    }
    answer->headers.emplace_back("X-Tokenmeter-Answered-By", url);
    respond(std::move(*answer));
  });
  lock.unlock();
  cv_.notify_one();
}

}  // namespace tokenmeter
