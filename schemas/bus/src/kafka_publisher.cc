#include "tokenmeter/bus/kafka_publisher.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <condition_variable>
#include "tokenmeter/base/log.h"
#include "tokenmeter/base/thread_name.h"
#include <mutex>
#include <thread>
#include <vector>

namespace tokenmeter {
namespace {

// Completion of one Publish() call. `pending` starts at records + 1 (the publisher's own
// hold, released after the produce loop) so the group cannot complete while records are
// still being handed over. The first failure reports at once; the group is freed when the
// last delivery report arrives, since librdkafka holds a pointer to it until then. Only
// the thread that wins `reported` touches `done`; a reporter always still holds a
// pending reference, so the group cannot be freed under it.
// Delivery reports of one partition come in produce order on the one polling thread, so
// `offsets` (the records of a call share a key, hence a partition) fills in record order.
struct DeliveryGroup {
  Publisher::Placed done;
  std::atomic<size_t> pending;
  std::atomic<bool> reported{false};
  size_t records = 0;
  int partition = 0;
  std::vector<int64_t> offsets;

  // Reports at most once, then drops `done` at once: what it captured (the caller's
  // request) must not live on until the last delivery report of the group.
  void Report(Status s) {
    if (reported.exchange(true)) return;
    Publisher::Placed d = std::move(done);
    done = nullptr;
    const bool placed = s.ok() && offsets.size() == records;
    d(std::move(s), partition, placed ? std::span<const int64_t>(offsets) : std::span<const int64_t>());
  }
  void Fail(Status s) { Report(std::move(s)); }
  void Release(size_t n) {
    if (pending.fetch_sub(n) == n) {
      Report(Status::Ok());
      delete this;
    }
  }
};

Status ProduceError(rd_kafka_resp_err_t err) {
  std::string what = rd_kafka_err2str(err);
  if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    return ResourceExhausted("producer queue full: " + what);
  }
  if (err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT || err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return DeadlineExceeded("delivery timed out: " + what);
  }
  return Unavailable("delivery failed: " + what);
}

}  // namespace

struct KafkaPublisher::Impl {
  rd_kafka_t* rk = nullptr;
  rd_kafka_topic_t* rkt = nullptr;
  std::string topic;
  std::atomic<bool> stop{false};
  std::atomic<bool> fatal{false};
  std::atomic<bool> metadata_ok{false};
  std::atomic<size_t> in_flight{0};
  std::thread poller;
  std::thread prober;
  std::mutex mu;
  std::condition_variable cv;

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    auto* group = static_cast<DeliveryGroup*>(msg->_private);
    self->in_flight.fetch_sub(1);
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      group->Fail(ProduceError(msg->err));
    } else {
      group->partition = msg->partition;
      group->offsets.push_back(msg->offset);
    }
    group->Release(1);
  }

  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[512];
      rd_kafka_fatal_error(rk, buf, sizeof(buf));
      Log(LogLevel::kError, "kafka_publisher", "fatal_error", {{"reason", buf}});
      self->fatal = true;
    } else if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
      self->metadata_ok = false;
    }
    (void)reason;
  }

  void PollLoop() {
    while (!stop.load()) rd_kafka_poll(rk, 50);
  }

  void ProbeLoop() {
    std::unique_lock lock(mu);
    while (!stop.load()) {
      lock.unlock();
      const rd_kafka_metadata_t* md = nullptr;
      bool ok = false;
      if (rd_kafka_metadata(rk, 0, rkt, &md, 1000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ok = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
             md->topics[0].partition_cnt > 0;
        for (int p = 0; ok && p < md->topics[0].partition_cnt; ++p) {
          ok = md->topics[0].partitions[p].leader >= 0;
        }
        rd_kafka_metadata_destroy(md);
      }
      metadata_ok = ok;
      lock.lock();
      cv.wait_for(lock, std::chrono::milliseconds(ok ? 1000 : 250), [&] { return stop.load(); });
    }
  }
};

Status KafkaConfig::Validate() const {
  if (bootstrap_servers.empty() && !properties.contains("test.mock.num.brokers")) {
    return InvalidArgument("bus.kafka.bootstrap_servers is required");
  }
  if (topic.empty()) return InvalidArgument("bus.kafka.topic must not be empty");
  if (delivery_timeout_ms < 100) return InvalidArgument("bus.kafka.delivery_timeout_ms >= 100");
  if (!(linger_ms >= 0 && linger_ms <= 1000)) {  // NaN fails too
    return InvalidArgument("bus.kafka.linger_ms in [0,1000]");
  }
  if (queue_max_messages < 1) return InvalidArgument("bus.kafka.queue_max_messages >= 1");
  if (queue_max_kbytes < 1) return InvalidArgument("bus.kafka.queue_max_kbytes >= 1");
  return Status::Ok();
}

Result<std::unique_ptr<KafkaPublisher>> KafkaPublisher::Create(const KafkaConfig& config) {
  RETURN_IF_ERROR(config.Validate());
  auto impl = std::make_unique<Impl>();
  impl->topic = config.topic;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  std::map<std::string, std::string> props = {
      {"client.id", config.client_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"compression.type", "lz4"},
      {"linger.ms", std::to_string(config.linger_ms)},  // "0.500000": librdkafka reads a float
      {"message.timeout.ms", std::to_string(config.delivery_timeout_ms)},
      {"queue.buffering.max.messages", std::to_string(config.queue_max_messages)},
      {"queue.buffering.max.kbytes", std::to_string(config.queue_max_kbytes)},
      {"partitioner", "murmur2_random"},
      {"log_level", "3"},
  };
  if (!config.bootstrap_servers.empty()) props["bootstrap.servers"] = config.bootstrap_servers;
  for (const auto& [k, v] : config.properties) props[k] = v;
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgument("kafka property " + k + ": " + err);
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, &Impl::OnDelivery);
  rd_kafka_conf_set_error_cb(conf, &Impl::OnError);
  rd_kafka_conf_set_opaque(conf, impl.get());
  impl->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (impl->rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Unavailable(std::string("cannot create Kafka producer: ") + err);
  }
  impl->rkt = rd_kafka_topic_new(impl->rk, config.topic.c_str(), nullptr);
  Impl* raw = impl.get();
  impl->poller = StartThread("tm-delivery", [raw] { raw->PollLoop(); });
  impl->prober = StartThread("tm-bus-probe", [raw] { raw->ProbeLoop(); });
  return std::unique_ptr<KafkaPublisher>(new KafkaPublisher(std::move(impl)));
}

KafkaPublisher::KafkaPublisher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KafkaPublisher::~KafkaPublisher() {
  // Outstanding records get their delivery reports (success or failure) before destroy,
  // so no DeliveryGroup is leaked and no `done` is left uncalled.
  (void)Flush(std::chrono::milliseconds(10000));  // Best effort; purge below covers the rest.
  rd_kafka_purge(impl_->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  impl_->prober.join();
  impl_->poller.join();
  rd_kafka_poll(impl_->rk, 0);  // serve the purged records' reports
  rd_kafka_topic_destroy(impl_->rkt);
  rd_kafka_destroy(impl_->rk);
}

void KafkaPublisher::Publish(std::span<const BusRecord> records, Done done) {
  PublishPlaced(records, [done = std::move(done)](Status s, int, std::span<const int64_t>) { done(std::move(s)); });
}

void KafkaPublisher::PublishPlaced(std::span<const BusRecord> records, Placed done) {
  if (records.empty()) {
    done(Status::Ok(), 0, {});
    return;
  }
  if (impl_->fatal.load()) {
    done(Unavailable("Kafka producer hit a fatal error; restart required"), 0, {});
    return;
  }
  auto* group = new DeliveryGroup;
  group->done = std::move(done);
  group->pending = records.size() + 1;
  group->records = records.size();
  group->offsets.reserve(records.size());
  size_t produced = 0;
  for (const BusRecord& r : records) {
    // librdkafka copies both (RD_KAFKA_MSG_F_COPY); its interface takes them non-const.
    rd_kafka_resp_err_t err = rd_kafka_producev(
        impl_->rk, RD_KAFKA_V_RKT(impl_->rkt),
        RD_KAFKA_V_KEY(const_cast<char*>(r.key.data()), r.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(group), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      group->Fail(ProduceError(err));
      break;
    }
    impl_->in_flight.fetch_add(1);
    ++produced;
  }
  // Release the records that were never handed over, plus the publisher's own hold.
  group->Release(records.size() - produced + 1);
}

void KafkaPublisher::RaiseFatalErrorForTesting() {
  rd_kafka_test_fatal_error(impl_->rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                            "injected by a test");
}

Status KafkaPublisher::Ready() const {
  if (impl_->fatal.load()) return Unavailable("the Kafka producer hit a fatal error");
  if (!impl_->metadata_ok.load()) return Unavailable("the Kafka brokers are unreachable");
  return Status::Ok();
}

size_t KafkaPublisher::InFlight() const { return impl_->in_flight.load(); }

Status KafkaPublisher::Flush(std::chrono::milliseconds timeout) {
  rd_kafka_resp_err_t err = rd_kafka_flush(impl_->rk, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return DeadlineExceeded(std::to_string(rd_kafka_outq_len(impl_->rk)) +
                            " records still in flight after flush timeout");
  }
  return Status::Ok();
}

}  // namespace tokenmeter
