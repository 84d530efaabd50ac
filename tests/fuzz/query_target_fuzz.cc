// Fuzz target: a read API request's target (path and query string, as a client sends it)
// against the query API over a state holding a few events: every answer is one the API
// documents (200, 400, 404 or 405), a JSON answer is valid JSON, and a streamed export
// ends; never a crash, a hang or an out-of-bounds read.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "dedup/dedup_index.h"
#include "pipeline.h"
#include "price/price_book.h"
#include "query/query_api.h"
#include "retention.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/model/event_codec.h"
#include "tokenmeter/model/event_parser.h"

using namespace tokenmeter;

namespace {

// The state every input is asked about: events of workspace acme, one key that reads it.
struct Fixture {
  Fixture() {
    const std::string dir = std::filesystem::temp_directory_path() / ("tm-fuzz-query-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    store = std::move(*StateStore::Open(dir, ProcessorStateOptions()));
    dedup = std::move(*DedupIndex::Load(*store));
    journal = std::move(*RollupJournal::Open(*store));
    auto prices = std::make_shared<const PriceBook>(*PriceBook::FromEmbedded());
    BatchPipeline pipeline(*store, *dedup, *journal, parser, prices, "tokenmeter.events");
    const TimePoint at = *ParseRfc3339("2026-02-07T12:34:56.000Z");
    std::vector<ConsumedRecord> records;
    for (int i = 0; i < 6; ++i) {
      UsageEvent e;
      e.workspace = "acme";
      e.request_id = "r-" + std::to_string(i % 5);  // one retry
      e.provider = "openai";
      e.model = e.model_raw = i % 2 ? "gpt-4.1" : "gpt-4o-mini";
      e.endpoint_tag = i % 3 ? "checkout" : "search \"q\"";
      e.user_id = i % 2 ? "u1" : "";
      e.tenant_id = "t\u00e9";
      e.input_tokens = 100 + i;
      e.output_tokens = 20;
      e.latency_ms = 300 + i;
      e.occurred_at = e.received_at = at + std::chrono::minutes(i);
      e.api_key_id = "k";
      ConsumedRecord r{0, i, "acme", ""};
      EncodeCanonical(e, r.value);
      records.push_back(std::move(r));
    }
    auto prepared = pipeline.Prepare(0, records);
    if (!prepared.ok() || !pipeline.Commit(*prepared).ok()) std::abort();
    key = *CreateApiKey("live", "acme", Role::kMember);
    keys = std::make_unique<KeyRing>(*KeyRing::Build({key.record}));
    api = std::make_unique<QueryApi>(*store, *dedup, *journal, *keys, clock);
  }
  IngestLimits limits;
  Normalizer normalizer = *Normalizer::FromEmbeddedTable();
  EventParser parser{limits, normalizer};
  std::unique_ptr<StateStore> store;
  std::unique_ptr<DedupIndex> dedup;
  std::unique_ptr<RollupJournal> journal;
  NewKey key;
  std::unique_ptr<KeyRing> keys;
  FakeClock clock{*ParseRfc3339("2026-02-07T13:00:00.000Z")};
  std::unique_ptr<QueryApi> api;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* f = new Fixture();  // lives for the process (the store's directory with it)
  HttpRequest r;
  r.method = "GET";
  r.target.assign(reinterpret_cast<const char*>(data), size);
  r.api_key = f->key.key;
  HttpResponse a = f->api->Handle(r);
  if (a.status != 200 && a.status != 400 && a.status != 404 && a.status != 405) std::abort();
  if (a.stream) {
    std::string piece;
    int pieces = 0;
    while (a.stream(piece)) {
      if (++pieces > 10000) std::abort();  // an export of six events does not go on
      piece.clear();
    }
  } else if (a.content_type == "application/json") {
    rapidjson::Document doc;
    doc.Parse(a.body.data(), a.body.size());
    if (doc.HasParseError() || !doc.IsObject()) std::abort();
  }
  return 0;
}
