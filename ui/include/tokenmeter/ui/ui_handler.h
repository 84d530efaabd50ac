// UiHandler: the web dashboard's pages and assets, compiled into the binary (ui/CMakeLists.txt).
// `/` and `/ui/` answer the page; `/ui/<file>` its scripts and styles. Every answer carries
// the security headers: a Content-Security-Policy allowing only this origin's scripts,
// styles and requests (no inline script), no framing, no MIME sniffing, no referrer.
// The page reads the query API with a read key the user types in, kept in the browser's
// session storage and sent as X-API-Key. Immutable; any thread.
#ifndef TOKENMETER_UI_UI_HANDLER_H_
#define TOKENMETER_UI_UI_HANDLER_H_

#include <string_view>
#include <vector>

#include "tokenmeter/http/http_server.h"

namespace tokenmeter {

struct UiAsset {
  std::string_view path;          // e.g. "/ui/app.js"
  std::string_view content_type;  // without its charset: every asset is UTF-8
  std::string_view body;
};
const std::vector<UiAsset>& EmbeddedUiAssets();

// Mounted at "/" (exactly) and "/ui/".
class UiHandler final : public HttpHandler {
 public:
  void Handle(HttpRequest request, Respond respond) override;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_UI_UI_HANDLER_H_
