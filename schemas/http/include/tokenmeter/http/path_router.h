// PathRouter: sends each request to the first route that matches its path (a prefix, or
// the whole path for an exact route), else to the fallback. Used where one port serves
// several components (serve; the processor with the dashboard). Immutable after
// construction; any thread.
#ifndef TOKENMETER_HTTP_PATH_ROUTER_H_
#define TOKENMETER_HTTP_PATH_ROUTER_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenmeter/http/http_server.h"

namespace tokenmeter {

class PathRouter final : public HttpHandler {
 public:
  struct Route {
    std::string path;  // a prefix, or with `exact` the whole path (without the query)
    HttpHandler* handler;
    bool exact = false;
  };
  PathRouter(std::vector<Route> routes, HttpHandler& fallback) : routes_(std::move(routes)), fallback_(fallback) {}

  void Handle(HttpRequest request, Respond respond) override {
    std::string_view path = request.target;
    path = path.substr(0, path.find('?'));
    for (const Route& r : routes_) {
      if (r.exact ? path == r.path : path.starts_with(r.path)) {
        r.handler->Handle(std::move(request), std::move(respond));
        return;
      }
    }
    fallback_.Handle(std::move(request), std::move(respond));
  }

 private:
  std::vector<Route> routes_;
  HttpHandler& fallback_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_HTTP_PATH_ROUTER_H_
