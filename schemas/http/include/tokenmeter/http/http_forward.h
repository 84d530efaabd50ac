// ForwardHttp: sends one request on to another tokenmeter process over HTTP/1.1 and
// returns its answer whole (a processor answering for a workspace another one owns).
// One connection per call, closed after it; the request is marked with
// X-Tokenmeter-Forwarded so the receiver never sends it on again.
//
// Thread: any; blocks the caller up to `timeout`.
#ifndef TOKENMETER_HTTP_HTTP_FORWARD_H_
#define TOKENMETER_HTTP_HTTP_FORWARD_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "tokenmeter/base/status.h"
#include "tokenmeter/http/http_server.h"

namespace tokenmeter {

inline constexpr const char* kForwardedHeader = "X-Tokenmeter-Forwarded";

struct ForwardLimits {
  std::chrono::milliseconds timeout{8000};  // connect, send and the whole answer
  uint64_t max_body_bytes = 64ull << 20;    // a longer answer fails with kResourceExhausted
};

// `base_url` is "http://host:port". The answer's status, Content-Type, body and its
// end-to-end headers (not Connection, Keep-Alive, Transfer-Encoding, Content-Length).
// kUnavailable if the process cannot be reached or answers nothing in time.
Result<HttpResponse> ForwardHttp(const std::string& base_url, const HttpRequest& request,
                                 const ForwardLimits& limits = {});

}  // namespace tokenmeter

#endif  // TOKENMETER_HTTP_HTTP_FORWARD_H_
