// One HTTP/1.1 POST with a hard deadline over the whole exchange (resolve, connect, send,
// read), a capped response, and no redirects. Blocking; runs its own I/O context, so any
// thread may call it and a hanging server costs the caller at most `timeout`.
#ifndef TOKENMETER_SINKS_WEBHOOK_HTTP_POST_H_
#define TOKENMETER_SINKS_WEBHOOK_HTTP_POST_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tokenmeter/base/status.h"

namespace tokenmeter {

struct HttpUrl {
  std::string host;
  uint16_t port = 80;
  std::string target = "/";
};
// http://host[:port][/path]; anything else is an error naming what is wrong.
Result<HttpUrl> ParseHttpUrl(const std::string& url);

struct HttpPostReply {
  int status = 0;
  std::string retry_after;  // the Retry-After header, "" if absent
  std::string location;     // the Location header, "" if absent
};

// The reply's status line and headers; the body is read (up to 64 KiB) and dropped.
// Errors: Unavailable (refused, reset, closed early), DeadlineExceeded (timeout).
Result<HttpPostReply> HttpPost(const HttpUrl& url,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body, std::chrono::milliseconds timeout);

}  // namespace tokenmeter

#endif  // TOKENMETER_SINKS_WEBHOOK_HTTP_POST_H_
