// The realistic phase's own tools (benchmarks/run.sh "realistic"):
//   realistic-csv  the realistic stream's counted events, priced exactly, as the CSV the
//                  columnar ceiling (benchmarks/duckdb/ceiling.mjs) loads;
//   queries        every dashboard view at 24h / 7d / 30d, `runs` times each, against a
//                  running serve: median and p99 per view and range, and the whole data's
//                  answers (requests, cost, the top user) to compare with the ceiling's;
//   compact        every column family of a stopped processor's state compacted, so the
//                  bytes on disk per event are measured after compaction.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_args.h"
#include "bench_events.h"
#include "bench_http.h"
#include "bench_report.h"
#include "price/cost_calculator.h"
#include "price/price_book.h"
#include "retention.h"
#include "state/state_store.h"
#include "tokenmeter/base/rfc3339.h"

namespace tokenmeter::bench {
namespace {

// Each view's name in the figures and its target; feature-prompts and feature-models are
// the lists narrowed to the busiest feature, user-overview the overview of the busiest
// user (drill-downs in the dashboard).
struct View {
  const char* name;
  const char* target;
};
constexpr View kViews[] = {
    {"overview", "overview?"},           {"timeseries", "timeseries?"},
    {"top-endpoints", "top-endpoints?"}, {"top-users", "top-users?"},
    {"top-tenants", "top-tenants?"},     {"prompt-versions", "prompt-versions?"},
    {"models", "models?"},               {"providers", "providers?"},
    {"projects", "projects?"},           {"environments", "environments?"},
    {"feature-prompts", "prompt-versions?feature=feature-000&"}, {"feature-models", "models?feature=feature-000&"},
    {"user-overview", "overview?user=user-00000&"}};
constexpr const char* kRanges[] = {"24h", "7d", "30d"};

// The number after `"name":` in `body` (first occurrence), or "".
std::string Member(const std::string& body, const std::string& name, size_t from = 0) {
  const std::string key = "\"" + name + "\":";
  size_t at = body.find(key, from);
  if (at == std::string::npos) return "";
  at += key.size();
  if (body[at] == '"') return body.substr(at + 1, body.find('"', at + 1) - at - 1);
  size_t end = body.find_first_of(",}", at);
  return body.substr(at, end - at);
}

}  // namespace

// realistic-csv --events N --span-days D --end-ms E --prefix P --out FILE
int RunRealisticCsv(const Args& a) {
  StreamShape s = ShapeFrom(a);
  if (!s.realistic) {
    std::fprintf(stderr, "realistic-csv: needs --shape realistic\n");
    return 2;
  }
  Result<PriceBook> book = PriceBook::FromEmbedded();
  if (!book.ok()) return std::fprintf(stderr, "realistic-csv: %s\n", book.status().ToString().c_str()), 1;
  std::FILE* f = std::fopen(a.Str("out").c_str(), "w");
  if (f == nullptr) return std::fprintf(stderr, "realistic-csv: cannot write %s\n", a.Str("out").c_str()), 1;
  std::string chunk = kEventCsvHeader;
  uint64_t unpriced = 0;
  for (uint64_t n = 0; n < s.events; ++n) {
    UsageEvent e = CanonicalEvent(s, n);
    Cost cost = PriceEvent(e, *book);
    if (!cost.total) ++unpriced;
    AppendEventCsv(e, cost.total ? cost.total->value : 0, chunk);
    if (chunk.size() > (1 << 20)) {
      std::fwrite(chunk.data(), 1, chunk.size(), f);
      chunk.clear();
    }
  }
  std::fwrite(chunk.data(), 1, chunk.size(), f);
  const bool written = std::fclose(f) == 0;
  Report r;
  r.Add("rows", static_cast<double>(s.events));
  r.Add("unpriced", static_cast<double>(unpriced));
  r.Print();
  return written && unpriced == 0 ? 0 : 1;
}

// queries --port P --key K --runs 20 --budget-s 30 --from RFC3339 --to RFC3339 (the whole
// data, for the answers compared with the ceiling's)
int RunQueries(const Args& a) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(std::stoi(a.Str("port")))),
                 ec);
  if (ec) return std::fprintf(stderr, "queries: connect: %s\n", ec.message().c_str()), 1;
  const std::string key = a.Str("key");
  const int runs = static_cast<int>(a.Num("runs", 20));
  const double budget_s = a.Num("budget-s", 30);
  http::response<http::string_body> res;
  Report r;
  int failures = 0;
  auto ask = [&](const std::string& target) {
    if (!Exchange(stream, http::verb::get, target, key, "", res) || res.result_int() != 200) {
      ++failures;
      std::fprintf(stderr, "queries: %s: %d %s\n", target.c_str(), res.result_int(), res.body().substr(0, 200).c_str());
      return false;
    }
    return true;
  };
  for (const View& view : kViews) {
    for (const char* range : kRanges) {
      const std::string target = std::string("/v1/dashboard/") + view.target + "range=" + range;
      std::vector<double> ms;
      const auto began = Clock::now();
      for (int i = 0; i < runs; ++i) {
        // Bounded: past the budget, stop after three runs.
        if (i >= 3 && Clock::now() - began > std::chrono::duration<double>(budget_s)) break;
        auto t = Clock::now();
        if (!ask(target)) break;
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
      }
      if (ms.empty()) continue;
      std::sort(ms.begin(), ms.end());
      const std::string name = std::string(view.name) + "_" + range;
      r.Add(name + "_p50_ms", ms[(ms.size() - 1) / 2]);
      r.Add(name + "_p99_ms", ms[std::min(ms.size() - 1, static_cast<size_t>((0.99 * ms.size()) + 0.999) - 1)]);
      r.Add(name + "_runs", static_cast<double>(ms.size()));
    }
  }
  // The whole data: the same answers as the ceiling's.
  const std::string window = "from=" + a.Str("from") + "&to=" + a.Str("to");
  if (ask("/v1/dashboard/overview?" + window)) {
    r.AddText("check_requests", Member(res.body(), "requests"));
    r.AddText("check_cost_nano", Member(res.body(), "costNanoUsd"));
  }
  if (ask("/v1/dashboard/top-users?limit=1&" + window)) {
    const size_t items = res.body().find("\"items\":");
    r.AddText("check_top_user", Member(res.body(), "value", items) + ":" + Member(res.body(), "costNanoUsd", items));
  }
  if (ask("/v1/dashboard/prompt-versions?feature=feature-000&limit=1&" + window)) {
    const size_t items = res.body().find("\"items\":");
    r.AddText("check_feature_prompt", Member(res.body(), "value", items) + ":" + Member(res.body(), "costNanoUsd", items));
  }
  r.Add("failures", failures);
  r.Print();
  return failures == 0 ? 0 : 1;
}

// compact --state DIR
int RunCompact(const Args& a) {
  RetentionConfig retention;
  retention.dedup_days = retention.events_days = retention.minute_rollup_days = 3650;  // keep all: only compact
  Result<std::unique_ptr<StateStore>> store = StateStore::Open(a.Str("state"), ProcessorStateOptions(&retention));
  if (!store.ok()) return std::fprintf(stderr, "compact: %s\n", store.status().ToString().c_str()), 1;
  for (Family f : {Family::kDedup, Family::kEvents, Family::kRollups, Family::kMeta}) {
    if (Status s = (*store)->CompactAll(f); !s.ok()) {
      return std::fprintf(stderr, "compact: %s\n", s.ToString().c_str()), 1;
    }
  }
  return 0;
}

}  // namespace tokenmeter::bench
