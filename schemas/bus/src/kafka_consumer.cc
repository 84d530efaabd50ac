#include "tokenmeter/bus/kafka_consumer.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <limits>
#include <mutex>

#include "tokenmeter/base/log.h"

namespace tokenmeter {

struct KafkaConsumer::Impl {
  rd_kafka_t* rk = nullptr;
  std::string topic;
  NextOffsetFn next_offset;
  mutable std::mutex mu;  // guards assigned/history_lost (read from other threads)
  std::set<int> assigned;
  std::set<int> history_lost;
  std::map<int, int64_t> taken_at;  // log end at assignment; -1 until known
  std::atomic<int> partition_count{0};  // 0 until the topic's metadata is known
  bool closed = false;
  bool whole_topic = false;

  void OnAssign(rd_kafka_topic_partition_list_t* parts) {
    std::set<int> now, lost;
    std::map<int, int64_t> ends;
    for (int i = 0; i < parts->cnt; ++i) {
      rd_kafka_topic_partition_t& p = parts->elems[i];
      now.insert(p.partition);
      // The log's end now: this partition's state is complete once applied up to it.
      int64_t low = 0, high = 0;
      rd_kafka_resp_err_t werr =
          rd_kafka_query_watermark_offsets(rk, p.topic, p.partition, &low, &high, 5000);
      ends[p.partition] = werr == RD_KAFKA_RESP_ERR_NO_ERROR ? high : -1;
      Result<std::optional<int64_t>> stored = next_offset(p.partition);
      if (stored.ok() && stored->has_value()) {
        p.offset = **stored;
        continue;
      }
      // No state for this partition here: rebuild it from the start of the log.
      p.offset = RD_KAFKA_OFFSET_BEGINNING;
      if (werr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        Log(LogLevel::kWarn, "kafka_consumer", "watermarks_unknown",
            {{"partition", std::to_string(p.partition)}, {"error", rd_kafka_err2str(werr)}});
      } else if (high > 0) {
        Log(LogLevel::kInfo, "kafka_consumer", "rebuilding_partition",
            {{"partition", std::to_string(p.partition)}, {"log_start", std::to_string(low)},
             {"log_end", std::to_string(high)}});
      }
      if (werr == RD_KAFKA_RESP_ERR_NO_ERROR && low > 0) {
        lost.insert(p.partition);
        Log(LogLevel::kError, "kafka_consumer", "history_lost",
            {{"partition", std::to_string(p.partition)}, {"log_start", std::to_string(low)},
             {"meaning", "state for this partition cannot be rebuilt exactly; totals are partial"}});
      }
      if (!stored.ok()) {
        Log(LogLevel::kError, "kafka_consumer", "offset_lookup_failed",
            {{"partition", std::to_string(p.partition)}, {"error", stored.status().ToString()}});
      }
    }
    std::string summary;
    for (int i = 0; i < parts->cnt; ++i) {
      if (!summary.empty()) summary += ",";
      summary += std::to_string(parts->elems[i].partition) + "@" +
                 (parts->elems[i].offset == RD_KAFKA_OFFSET_BEGINNING
                      ? std::string("beginning")
                      : std::to_string(parts->elems[i].offset));
    }
    Log(LogLevel::kInfo, "kafka_consumer", "partitions_assigned", {{"partitions", summary}});
    rd_kafka_resp_err_t err = rd_kafka_assign(rk, parts);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Log(LogLevel::kError, "kafka_consumer", "assign_failed", {{"error", rd_kafka_err2str(err)}});
    }
    partition_count = QueryPartitionCount(5000);
    std::lock_guard lock(mu);
    assigned = now;
    history_lost = lost;
    taken_at = ends;
  }

  // The topic's partition count from the brokers' metadata, or 0.
  int QueryPartitionCount(int timeout_ms) {
    rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, t, &md, timeout_ms);
    rd_kafka_topic_destroy(t);
    int count = 0;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md != nullptr && md->topic_cnt == 1 && !md->topics[0].err) {
      count = std::max(md->topics[0].partition_cnt, 0);
    }
    if (md) rd_kafka_metadata_destroy(md);
    return count;
  }

  // whole_topic: assigns every partition from its beginning once the topic's metadata is
  // known (tried on each Poll until then).
  void AssignWholeTopic(std::chrono::milliseconds timeout) {
    rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
    const rd_kafka_metadata_t* md = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, t, &md, static_cast<int>(std::max<int64_t>(timeout.count(), 1)));
    rd_kafka_topic_destroy(t);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR || md == nullptr || md->topic_cnt != 1 || md->topics[0].err ||
        md->topics[0].partition_cnt <= 0) {
      if (md) rd_kafka_metadata_destroy(md);
      return;
    }
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(md->topics[0].partition_cnt);
    std::set<int> now;
    for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
      const int p = md->topics[0].partitions[i].id;
      rd_kafka_topic_partition_list_add(parts, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
      now.insert(p);
    }
    rd_kafka_metadata_destroy(md);
    err = rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      Log(LogLevel::kError, "kafka_consumer", "assign_failed", {{"error", rd_kafka_err2str(err)}});
      return;
    }
    std::lock_guard lock(mu);
    assigned = now;
  }

  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      self->OnAssign(parts);
    } else {
      // Batches are committed before the next Poll, so nothing is pending at revoke.
      rd_kafka_assign(rk, nullptr);
      std::lock_guard lock(self->mu);
      self->assigned.clear();
      self->taken_at.clear();
    }
  }
};

KafkaConsumerConfig WholeTopicReader(const std::string& bootstrap_servers, const std::string& topic,
                                     const std::map<std::string, std::string>& properties, const std::string& reader,
                                     int fetch_wait_ms) {
  KafkaConsumerConfig cc;
  cc.bootstrap_servers = bootstrap_servers;
  cc.topic = topic;
  cc.whole_topic = true;
  cc.group_id = reader;
  cc.properties = properties;
  cc.properties.try_emplace("fetch.wait.max.ms", std::to_string(fetch_wait_ms));
  return cc;
}

Result<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(const KafkaConsumerConfig& config,
                                                             NextOffsetFn next_offset) {
  if (config.bootstrap_servers.empty()) return InvalidArgument("consumer bootstrap_servers is required");
  auto impl = std::make_unique<Impl>();
  impl->topic = config.topic;
  impl->next_offset = std::move(next_offset);
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  impl->whole_topic = config.whole_topic;
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", config.bootstrap_servers},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      {"log_level", "3"},
  };
  // whole_topic needs a group id too (librdkafka's consumer has one), but never joins it.
  props["group.id"] = config.group_id;
  for (const auto& [k, v] : config.properties) props[k] = v;
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return InvalidArgument("kafka consumer property " + k + ": " + err);
    }
  }
  rd_kafka_conf_set_rebalance_cb(conf, &Impl::OnRebalance);
  rd_kafka_conf_set_opaque(conf, impl.get());
  impl->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (!impl->rk) {
    rd_kafka_conf_destroy(conf);
    return Unavailable(std::string("cannot create Kafka consumer: ") + err);
  }
  rd_kafka_poll_set_consumer(impl->rk);
  if (config.whole_topic) return std::unique_ptr<KafkaConsumer>(new KafkaConsumer(std::move(impl)));
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, config.topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(impl->rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_destroy(impl->rk);
    return Unavailable(std::string("subscribe: ") + rd_kafka_err2str(e));
  }
  return std::unique_ptr<KafkaConsumer>(new KafkaConsumer(std::move(impl)));
}

KafkaConsumer::KafkaConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

KafkaConsumer::~KafkaConsumer() {
  Close();
  rd_kafka_destroy(impl_->rk);
}

void KafkaConsumer::Close() {
  if (impl_->closed) return;
  impl_->closed = true;
  rd_kafka_consumer_close(impl_->rk);
}

Result<std::vector<ConsumedRecord>> KafkaConsumer::Poll(std::chrono::milliseconds timeout,
                                                        size_t max) {
  if (impl_->whole_topic && Assigned().empty()) impl_->AssignWholeTopic(timeout);
  std::vector<ConsumedRecord> out;
  // Exactly `max`, not grown by doubling: a large poll would otherwise end in a block
  // past malloc's mmap threshold, mapped and faulted in anew on every poll.
  out.reserve(max);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < max) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 && !out.empty()) break;
    // Wait up to the timeout for the first record, then briefly for more, so batches
    // are not cut whenever librdkafka's local queue is momentarily empty.
    long long wait = out.empty() ? std::max<long long>(left.count(), 0)
                                 : std::min<long long>(std::max<long long>(left.count(), 0), 10);
    rd_kafka_message_t* m = rd_kafka_consumer_poll(impl_->rk, static_cast<int>(wait));
    if (m == nullptr) {
      if (!out.empty() || left.count() <= 0) break;
      continue;
    }
    if (m->err) {
      rd_kafka_resp_err_t err = m->err;
      rd_kafka_message_destroy(m);
      if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
          err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        break;  // transient: librdkafka keeps retrying; the caller polls again
      }
      Log(LogLevel::kWarn, "kafka_consumer", "consume_error", {{"error", rd_kafka_err2str(err)}});
      break;
    }
    out.push_back({m->partition, m->offset,
                   std::string(static_cast<const char*>(m->key), m->key_len),
                   std::string(static_cast<const char*>(m->payload), m->len)});
    rd_kafka_message_destroy(m);
  }
  return out;
}

Status KafkaConsumer::Seek(int partition, int64_t offset) {
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, impl_->topic.c_str(), partition)->offset = offset;
  rd_kafka_error_t* error = rd_kafka_seek_partitions(impl_->rk, parts, 5000);
  rd_kafka_topic_partition_list_destroy(parts);
  if (error) {
    std::string msg = rd_kafka_error_string(error);
    rd_kafka_error_destroy(error);
    return Unavailable("seek: " + msg);
  }
  return Status::Ok();
}

void KafkaConsumer::CommitForLag(const std::map<int, int64_t>& next_offsets) {
  if (next_offsets.empty()) return;
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size()));
  for (const auto& [p, o] : next_offsets) {
    rd_kafka_topic_partition_list_add(parts, impl_->topic.c_str(), p)->offset = o;
  }
  // Async and best effort: RocksDB holds the offsets that matter.
  (void)rd_kafka_commit(impl_->rk, parts, 1);
  rd_kafka_topic_partition_list_destroy(parts);
}

std::set<int> KafkaConsumer::Assigned() const {
  std::lock_guard lock(impl_->mu);
  return impl_->assigned;
}

std::set<int> KafkaConsumer::HistoryLost() const {
  std::lock_guard lock(impl_->mu);
  return impl_->history_lost;
}

std::map<int, int64_t> KafkaConsumer::TakenAt() const {
  std::lock_guard lock(impl_->mu);
  return impl_->taken_at;
}

std::optional<int> KafkaConsumer::PartitionOf(std::string_view key) {
  int count = impl_->partition_count.load();
  if (count == 0) {
    count = impl_->QueryPartitionCount(1000);
    if (count == 0) return std::nullopt;
    impl_->partition_count = count;
  }
  // The producer's partitioner (KafkaPublisher: murmur2_random), so never out of step.
  return rd_kafka_msg_partitioner_murmur2_random(nullptr, key.data(), key.size(), count, nullptr, nullptr);
}

}  // namespace tokenmeter

namespace tokenmeter {

std::map<int, int64_t> KafkaConsumer::Lag() {
  std::map<int, int64_t> lag;
  std::set<int> owned = Assigned();
  if (owned.empty()) return lag;
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(static_cast<int>(owned.size()));
  for (int p : owned) rd_kafka_topic_partition_list_add(parts, impl_->topic.c_str(), p);
  if (rd_kafka_position(impl_->rk, parts) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < parts->cnt; ++i) {
      int64_t low = -1, high = -1;
      const rd_kafka_topic_partition_t& tp = parts->elems[i];
      if (rd_kafka_get_watermark_offsets(impl_->rk, impl_->topic.c_str(), tp.partition, &low, &high) !=
              RD_KAFKA_RESP_ERR_NO_ERROR || high < 0) {
        continue;  // not known yet
      }
      {
        std::lock_guard lock(impl_->mu);  // a takeover whose log end was not known: now it is
        auto taken = impl_->taken_at.find(tp.partition);
        if (taken != impl_->taken_at.end() && taken->second < 0) taken->second = high;
      }
      if (tp.offset >= 0) {
        lag[tp.partition] = std::max<int64_t>(0, high - tp.offset);
      } else if (low == high) {
        lag[tp.partition] = 0;  // nothing fetched because there is nothing to fetch
      }
    }
  }
  // A whole-topic reader that has fetched nothing yet asks the brokers whether there is
  // anything to fetch (an empty topic needs no fetch to be read to its end).
  if (impl_->whole_topic) {
    for (int p : owned) {
      if (lag.contains(p)) continue;
      int64_t low = -1, high = -1;
      if (rd_kafka_query_watermark_offsets(impl_->rk, impl_->topic.c_str(), p, &low, &high, 500) ==
              RD_KAFKA_RESP_ERR_NO_ERROR &&
          low == high) {
        lag[p] = 0;
      }
    }
  }
  rd_kafka_topic_partition_list_destroy(parts);
  return lag;
}

}  // namespace tokenmeter
