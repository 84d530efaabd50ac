// SettingsGate: a process serves nothing but /healthz, /readyz and /metrics until it has
// read the settings log to its end (SettingsFollower::CaughtUp), so no request is
// answered by settings older than the log's: before, every other request gets 503
// settings_loading with Retry-After: 1, and a /readyz that would say 200 says 503
// settings_loading (one that says why else it is not ready is passed on as it is).
// Immutable; any thread.
#ifndef TOKENMETER_SETTINGS_SETTINGS_GATE_H_
#define TOKENMETER_SETTINGS_SETTINGS_GATE_H_

#include <string_view>

#include "tokenmeter/http/http_server.h"
#include "tokenmeter/http/json_error.h"
#include "tokenmeter/settings/settings_follower.h"

namespace tokenmeter {

class SettingsGate final : public HttpHandler {
 public:
  SettingsGate(const SettingsFollower& follower, HttpHandler& next) : follower_(follower), next_(next) {}

  void Handle(HttpRequest request, Respond respond) override {
    if (follower_.CaughtUp()) return next_.Handle(std::move(request), std::move(respond));
    std::string_view path = request.target;
    path = path.substr(0, path.find('?'));
    if (path == "/healthz" || path == "/metrics") return next_.Handle(std::move(request), std::move(respond));
    if (path == "/readyz") {
      return next_.Handle(std::move(request), [respond = std::move(respond)](HttpResponse r) {
        respond(r.status == 200 ? Loading() : std::move(r));
      });
    }
    HttpResponse r = Loading();
    r.headers.emplace_back("Retry-After", "1");
    respond(std::move(r));
  }

 private:
  static HttpResponse Loading() {
    return JsonError(503, "settings_loading", "the settings log is not read to its end yet");
  }
  const SettingsFollower& follower_;
  HttpHandler& next_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_SETTINGS_SETTINGS_GATE_H_
