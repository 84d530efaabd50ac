// The JSON ceiling: RapidJSON parsing the canonical events with no validation (a fresh
// Document per event), beside our own parser (validation and normalization) on the same
// bytes, to show how much of the processor's per-event cost parsing is; and our decoder
// on the same events in the binary form the edge sends (the same checks, no JSON).
#include <rapidjson/document.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_args.h"
#include "bench_events.h"
#include "bench_report.h"
#include "tokenmeter/model/event_codec.h"
#include "tokenmeter/model/event_parser.h"
#include "tokenmeter/model/normalizer.h"

namespace tokenmeter::bench {

// json --events N
int RunJson(const Args& a) {
  uint64_t n = static_cast<uint64_t>(a.Num("events", 200000));
  StreamShape shape;
  shape.workspaces = 16;
  shape.start_ms = 1795000000000;
  std::vector<std::string> lines(n);
  for (uint64_t i = 0; i < n; ++i) EncodeCanonical(CanonicalEvent(shape, i), lines[i]);

  uint64_t members = 0;
  auto start = std::chrono::steady_clock::now();
  for (const std::string& l : lines) {
    rapidjson::Document d;
    d.Parse(l.data(), l.size());
    if (d.HasParseError() || !d.IsObject()) {
      std::fprintf(stderr, "rapidjson: parse error\n");
      return 1;
    }
    members += d.MemberCount();
  }
  double raw_s = SecondsSince(start);

  Result<Normalizer> normalizer = Normalizer::FromEmbeddedTable();
  if (!normalizer.ok()) return 1;
  IngestLimits limits;
  EventParser parser(limits, *normalizer);
  start = std::chrono::steady_clock::now();
  for (const std::string& l : lines) {
    Result<UsageEvent> e = parser.ParseCanonical(l);
    if (!e.ok()) {
      std::fprintf(stderr, "ParseCanonical: %s\n", e.status().ToString().c_str());
      return 1;
    }
  }
  double ours_s = SecondsSince(start);

  std::vector<std::string> binary(n);
  for (uint64_t i = 0; i < n; ++i) EncodeBusRecord(CanonicalEvent(shape, i), binary[i]);
  UsageEvent event;
  std::string scratch;
  start = std::chrono::steady_clock::now();
  for (const std::string& b : binary) {
    ClearKeepingCapacity(event);
    if (RecordStatus s = parser.ParseCanonical(b, event, scratch); !s.ok()) {
      std::fprintf(stderr, "ParseCanonical (binary): %s\n", s.message.c_str());
      return 1;
    }
  }
  double binary_s = SecondsSince(start);

  // The edge's parse of an ingest body of 100 events (validation, normalization, one
  // UsageEvent per event), as the HTTP thread runs it for a batch POST.
  constexpr uint64_t kBatch = 100;
  std::vector<std::string> bodies;
  for (uint64_t i = 0; i + kBatch <= std::max(n, kBatch); i += kBatch) {  // one body at least
    std::string& body = bodies.emplace_back("{\"events\":[");
    for (uint64_t k = i; k < i + kBatch; ++k) {
      if (k != i) body.push_back(',');
      AppendIngestEvent(shape, k, body);
    }
    body += "]}";
  }
  IngestContext ctx;
  ctx.workspace = "bench";
  ctx.api_key_id = "k1";
  ctx.received_at = TimePoint(std::chrono::milliseconds(shape.start_ms + 1000));
  std::string body;
  ParsedBody parsed;  // reused, as each edge I/O thread does
  start = std::chrono::steady_clock::now();
  for (const std::string& b : bodies) {
    body.assign(b);  // parsed in place
    parser.ParseIngest(body, ctx, parsed);
    if (parsed.body_error != BodyError::kNone || parsed.events.size() != kBatch) {
      std::fprintf(stderr, "ParseIngest: %s %s\n", parsed.body_message.c_str(),
                   parsed.errors.empty() ? "" : parsed.errors[0].message.c_str());
      return 1;
    }
  }
  double ingest_s = SecondsSince(start);
  Report r;
  r.Add("events", static_cast<double>(n));
  r.Add("rapidjson_per_s", static_cast<double>(n) / raw_s);
  r.Add("parse_canonical_per_s", static_cast<double>(n) / ours_s);
  r.Add("decode_binary_per_s", static_cast<double>(n) / binary_s);
  r.Add("ingest_batch_events_per_s", static_cast<double>(bodies.size() * kBatch) / ingest_s);
  r.Add("members_per_event", static_cast<double>(members) / static_cast<double>(n));
  r.Print();
  return 0;
}

}  // namespace tokenmeter::bench
