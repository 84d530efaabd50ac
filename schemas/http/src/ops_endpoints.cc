#include "tokenmeter/http/ops_endpoints.h"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "tokenmeter/http/json_error.h"

namespace tokenmeter {

bool OpsEndpoints::Serves(std::string_view path) {
  return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

HttpResponse OpsEndpoints::Answer(std::string_view method, std::string_view path) const {
  HttpResponse r;
  if (method != "GET" && method != "HEAD") {
    r = JsonError(405, "method_not_allowed", "method not allowed on this endpoint");
    r.headers.emplace_back("Allow", "GET");
  } else if (path == "/healthz") {
    r.body = R"({"ok":true})";
  } else if (path == "/readyz") {
    std::optional<Unready> unready = hooks_.unready ? hooks_.unready() : std::nullopt;
    if (unready) {
      r = JsonError(503, unready->reason, unready->message);
    } else {
      r.body = R"({"ok":true,"ready":true)" + (hooks_.ready_members ? hooks_.ready_members() : "") + "}";
    }
  } else {
    if (hooks_.before_scrape) hooks_.before_scrape();
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = prometheus::TextSerializer().Serialize(registry_.Collect());
  }
  return r;
}

}  // namespace tokenmeter
