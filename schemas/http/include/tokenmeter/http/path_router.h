// PathRouter: sends each request to the first handler whose path prefix matches, else to
// the fallback. Used where one port serves several components (serve mode). Immutable
// after construction; any thread.
#ifndef TOKENMETER_HTTP_PATH_ROUTER_H_
#define TOKENMETER_HTTP_PATH_ROUTER_H_

#include <string>
#include <utility>
#include <vector>

#include "tokenmeter/http/http_server.h"

namespace tokenmeter {

class PathRouter final : public HttpHandler {
 public:
  PathRouter(std::vector<std::pair<std::string, HttpHandler*>> routes, HttpHandler& fallback)
      : routes_(std::move(routes)), fallback_(fallback) {}

  void Handle(HttpRequest request, Respond respond) override {
    for (const auto& [prefix, handler] : routes_) {
      if (request.target.compare(0, prefix.size(), prefix) == 0) {
        handler->Handle(std::move(request), std::move(respond));
        return;
      }
    }
    fallback_.Handle(std::move(request), std::move(respond));
  }

 private:
  std::vector<std::pair<std::string, HttpHandler*>> routes_;
  HttpHandler& fallback_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_HTTP_PATH_ROUTER_H_
