#include "tokenmeter/ui/ui_handler.h"

#include "tokenmeter/http/json_error.h"

namespace tokenmeter {
namespace {

void AddSecurityHeaders(HttpResponse& r) {
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                         "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

}  // namespace

void UiHandler::Handle(HttpRequest request, Respond respond) {
  std::string_view path = request.target;
  path = path.substr(0, path.find('?'));
  if (path == "/" || path == "/ui/") path = "/ui/index.html";
  HttpResponse r;
  if (request.method != "GET" && request.method != "HEAD") {
    r = JsonError(405, "method_not_allowed", "the dashboard's pages are GET");
    r.headers.emplace_back("Allow", "GET");
  } else {
    r = JsonError(404, "not_found", "no such page");
    for (const UiAsset& a : EmbeddedUiAssets()) {
      if (a.path != path) continue;
      r = HttpResponse{};
      r.content_type = std::string(a.content_type) + "; charset=utf-8";
      r.body = std::string(a.body);
      r.headers.emplace_back("Cache-Control", "no-cache");
      break;
    }
  }
  AddSecurityHeaders(r);
  respond(std::move(r));
}

}  // namespace tokenmeter
