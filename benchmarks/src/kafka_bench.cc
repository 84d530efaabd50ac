// The Kafka ceilings: a bare librdkafka producer with the edge's settings (lz4,
// acks=all, idempotent, the same linger) sending the canonical events, and a bare
// consumer reading them back, and the same producer acknowledging one record at a time per
// slot (as single-event POSTs need). Also the filler of the processor phase, since a bare
// producer is the fastest way to put a known stream on the topic.
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bench_args.h"
#include "bench_events.h"
#include "bench_report.h"
#include "tokenmeter/bus/kafka_publisher.h"
#include "tokenmeter/model/event_codec.h"

namespace tokenmeter::bench {
namespace {

struct DeliveryCounts {
  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> failed{0};
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* c = static_cast<DeliveryCounts*>(opaque);
  (m->err == RD_KAFKA_RESP_ERR_NO_ERROR ? c->ok : c->failed).fetch_add(1);
}

bool Set(rd_kafka_conf_t* conf, const char* k, const std::string& v) {
  char err[256];
  if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof(err)) == RD_KAFKA_CONF_OK) return true;
  std::fprintf(stderr, "kafka property %s: %s\n", k, err);
  return false;
}

// The stream's events first..first+n-1 as bus records: record keys (the workspace) and
// values (the edge's binary record form).
void EncodeRecords(const StreamShape& shape, uint64_t first, uint64_t n, std::vector<std::string>& keys,
                   std::vector<std::string>& values) {
  keys.assign(n, {});
  values.assign(n, {});
  for (uint64_t i = 0; i < n; ++i) {
    UsageEvent e = CanonicalEvent(shape, LogicalIndex(shape, first + i));
    keys[i] = e.workspace;
    AppendBusRecord(shape, e, values[i]);
  }
}

// A producer with the edge's settings (idempotent, acks=all, lz4, the edge's default
// linger unless --linger-ms), delivery reports to `on_delivery` with `opaque`; nullptr
// (and a message on stderr) when it cannot be made.
rd_kafka_t* NewProducer(const Args& a, void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*),
                        void* opaque) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[256];
  bool ok = Set(conf, "bootstrap.servers", a.Str("bootstrap")) &&
            Set(conf, "enable.idempotence", "true") && Set(conf, "acks", "all") &&
            Set(conf, "compression.type", "lz4") &&
            Set(conf, "linger.ms", a.Str("linger-ms", std::to_string(KafkaConfig{}.linger_ms))) &&
            Set(conf, "partitioner", "murmur2_random") &&
            Set(conf, "queue.buffering.max.messages", "200000") && Set(conf, "log_level", "3");
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    return nullptr;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, opaque);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (!rk) std::fprintf(stderr, "producer: %s\n", err);
  return rk;
}

// The closed loop of kafka-acks: each record's send time rides in its opaque; its
// delivery report frees its slot and records the wait.
struct AckLoop {
  std::vector<uint32_t> latency_us;
  uint64_t failed = 0;
  int free_slots = 0;
};

void OnAck(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* loop = static_cast<AckLoop*>(opaque);
  ++loop->free_slots;
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++loop->failed;
    return;
  }
  auto sent = std::chrono::steady_clock::time_point(
      std::chrono::steady_clock::duration(reinterpret_cast<intptr_t>(m->_private)));
  loop->latency_us.push_back(static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - sent).count()));
}

}  // namespace

// kafka-produce --bootstrap B --topic T --events N [--first K] [stream options]
int RunKafkaProduce(const Args& a) {
  StreamShape shape = ShapeFrom(a);
  uint64_t n = static_cast<uint64_t>(a.Num("events", 100000));
  uint64_t first = static_cast<uint64_t>(a.Num("first", 0));
  // Encode first: the ceiling is the producer, not our encoder.
  std::vector<std::string> keys, values;
  EncodeRecords(shape, first, n, keys, values);
  DeliveryCounts counts;
  rd_kafka_t* rk = NewProducer(a, &OnDelivery, &counts);
  if (!rk) return 1;
  std::string topic = a.Str("topic", "tokenmeter.events");
  uint64_t bytes = 0;
  auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    for (;;) {
      rd_kafka_resp_err_t e = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(keys[i].data(), keys[i].size()),
          RD_KAFKA_V_VALUE(values[i].data(), values[i].size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        std::fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
        return 1;
      }
      rd_kafka_poll(rk, 1);
    }
    bytes += values[i].size();
    rd_kafka_poll(rk, 0);
  }
  rd_kafka_resp_err_t fe = rd_kafka_flush(rk, 60000);
  double secs = SecondsSince(start);
  rd_kafka_destroy(rk);
  if (fe != RD_KAFKA_RESP_ERR_NO_ERROR || counts.failed.load() != 0 || counts.ok.load() != n) {
    std::fprintf(stderr, "producer: %llu delivered, %llu failed of %llu\n",
                 static_cast<unsigned long long>(counts.ok.load()),
                 static_cast<unsigned long long>(counts.failed.load()), static_cast<unsigned long long>(n));
    return 1;
  }
  Report r;
  r.Add("events", static_cast<double>(n));
  r.Add("seconds", secs);
  r.Add("events_per_s", static_cast<double>(n) / secs);
  r.Add("avg_event_bytes", static_cast<double>(bytes) / static_cast<double>(n));
  r.Print();
  return 0;
}

// kafka-acks --bootstrap B --topic T [--in-flight 64] [--duration-s 10] [stream options]
// A single event's durable acknowledgement, as the edge owes one per single-event POST:
// the bare producer with the edge's settings keeps `in-flight` records outstanding (one
// per connection of the HTTP phases) and sends the next as each is acknowledged, from one
// thread that both produces and serves the delivery reports (the edge hands them between
// three threads). Acknowledgements per second and their latency: the rate that bounds an
// edge answering after the acknowledgement at that many connections (Little's law: in
// flight ÷ latency; the edge measured 0.80-1.06 × it); and the producer's own CPU per
// acknowledged record (all its threads), which every such request pays.
int RunKafkaAcks(const Args& a) {
  StreamShape shape = ShapeFrom(a);
  int in_flight = static_cast<int>(a.Num("in-flight", 64));
  double duration_s = a.Num("duration-s", 10);
  constexpr uint64_t kRecords = 4096;  // sent round-robin: the ids do not matter here
  std::vector<std::string> keys, values;
  EncodeRecords(shape, 0, kRecords, keys, values);
  AckLoop loop;
  loop.latency_us.reserve(1 << 20);
  loop.free_slots = in_flight;
  rd_kafka_t* rk = NewProducer(a, &OnAck, &loop);
  if (!rk) return 1;
  std::string topic = a.Str("topic", "tokenmeter.events");
  // The first record waits for the topic's metadata and the idempotent producer's id (over
  // a second on a busy machine): it is sent and acknowledged before the clock starts.
  rd_kafka_resp_err_t warm = rd_kafka_producev(
      rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(keys[0].data(), keys[0].size()),
      RD_KAFKA_V_VALUE(values[0].data(), values[0].size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_END);
  if (warm != RD_KAFKA_RESP_ERR_NO_ERROR || rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      loop.failed != 0) {
    std::fprintf(stderr, "kafka-acks: the first record was not acknowledged within 30 s\n");
    rd_kafka_destroy(rk);
    return 1;
  }
  loop.latency_us.clear();
  loop.free_slots = in_flight;
  double cpu0 = ProcessCpuSeconds();
  auto start = std::chrono::steady_clock::now();
  auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(duration_s));
  uint64_t sent = 0;
  while (std::chrono::steady_clock::now() < end) {
    for (; loop.free_slots > 0; --loop.free_slots, ++sent) {
      uint64_t i = sent % kRecords;
      void* at = reinterpret_cast<void*>(
          static_cast<intptr_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
      rd_kafka_resp_err_t e = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_KEY(keys[i].data(), keys[i].size()),
          RD_KAFKA_V_VALUE(values[i].data(), values[i].size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_OPAQUE(at), RD_KAFKA_V_END);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::fprintf(stderr, "kafka-acks: produce: %s\n", rd_kafka_err2str(e));
        rd_kafka_destroy(rk);
        return 1;
      }
    }
    rd_kafka_poll(rk, 10);
  }
  double secs = SecondsSince(start), cpu = ProcessCpuSeconds() - cpu0;
  uint64_t acked = loop.latency_us.size();
  rd_kafka_resp_err_t fe = rd_kafka_flush(rk, 30000);
  rd_kafka_destroy(rk);
  if (fe != RD_KAFKA_RESP_ERR_NO_ERROR || loop.failed != 0 || acked == 0) {
    std::fprintf(stderr, "kafka-acks: %llu acknowledged, %llu failed\n", static_cast<unsigned long long>(acked),
                 static_cast<unsigned long long>(loop.failed));
    return 1;
  }
  Report r;
  r.Add("acks", static_cast<double>(acked));
  r.Add("seconds", secs);
  r.Add("acks_per_s", static_cast<double>(acked) / secs);
  r.Add("in_flight", in_flight);
  r.Add("cpu_us_per_ack", cpu * 1e6 / static_cast<double>(acked));
  r.Add("p50_ms", Percentile(loop.latency_us, 0.5) / 1000);
  r.Add("p99_ms", Percentile(loop.latency_us, 0.99) / 1000);
  r.Print();
  return 0;
}

// kafka-consume --bootstrap B --topic T --events N: reads N records from the start of
// every partition (assigned, no group join); the clock runs from the first record.
int RunKafkaConsume(const Args& a) {
  uint64_t n = static_cast<uint64_t>(a.Num("events", 100000));
  double timeout_s = a.Num("timeout-s", 60);
  std::string topic = a.Str("topic", "tokenmeter.events");
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[256];
  bool ok = Set(conf, "bootstrap.servers", a.Str("bootstrap")) && Set(conf, "group.id", "bench-bare-consumer") &&
            Set(conf, "enable.auto.commit", "false") && Set(conf, "enable.partition.eof", "false") &&
            Set(conf, "log_level", "3");
  if (!ok) return 2;
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (!rk) {
    std::fprintf(stderr, "consumer: %s\n", err);
    return 1;
  }
  rd_kafka_poll_set_consumer(rk);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR || md->topic_cnt != 1) {
    std::fprintf(stderr, "consumer: no metadata for %s\n", topic.c_str());
    return 1;
  }
  int partitions = md->topics[0].partition_cnt;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  uint64_t got = 0, bytes = 0, errors = 0;
  std::chrono::steady_clock::time_point first{};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (got < n && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (got == 0) first = std::chrono::steady_clock::now();
      ++got;
      bytes += m->len;
    } else {
      ++errors;
    }
    rd_kafka_message_destroy(m);
  }
  double secs = got > 0 ? SecondsSince(first) : 0;
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  if (got != n) {
    std::fprintf(stderr, "consumer: read %llu of %llu records (%llu errors)\n",
                 static_cast<unsigned long long>(got), static_cast<unsigned long long>(n),
                 static_cast<unsigned long long>(errors));
    return 1;
  }
  Report r;
  r.Add("events", static_cast<double>(got));
  r.Add("seconds", secs);
  r.Add("events_per_s", static_cast<double>(got) / secs);
  r.Add("partitions", partitions);
  r.Print();
  return 0;
}

}  // namespace tokenmeter::bench
