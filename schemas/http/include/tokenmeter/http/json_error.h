// The one error body every tokenmeter endpoint answers with:
//   {"ok":false,"reason":"<machine-readable>","message":"<human>"}
#ifndef TOKENMETER_HTTP_JSON_ERROR_H_
#define TOKENMETER_HTTP_JSON_ERROR_H_

#include <string_view>

#include "tokenmeter/base/json_text.h"
#include "tokenmeter/http/http_server.h"

namespace tokenmeter {

inline HttpResponse JsonError(int status, std::string_view reason, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.body = "{\"ok\":false,\"reason\":";
  AppendJsonString(r.body, reason);
  r.body += ",\"message\":";
  AppendJsonString(r.body, message);
  r.body += "}";
  return r;
}

}  // namespace tokenmeter

#endif  // TOKENMETER_HTTP_JSON_ERROR_H_
