// Test HTTP clients: a Beast client for well-formed requests and a raw-socket client for
// byte-exact framing tests. Loopback only; every read has a timeout.
#ifndef TOKENMETER_TESTS_SUPPORT_HTTP_CLIENT_H_
#define TOKENMETER_TESTS_SUPPORT_HTTP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tokenmeter::testing {

struct Reply {
  int status = 0;  // 0: no response (connection closed or timed out)
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// One request on a fresh connection.
Reply Request(uint16_t port, const std::string& method, const std::string& target,
              const std::string& body = "",
              const std::vector<std::pair<std::string, std::string>>& headers = {});

// POST with Content-Type: application/json and X-API-Key (omitted when key is empty).
Reply PostJson(uint16_t port, const std::string& target, const std::string& key,
               const std::string& body);

// Sends raw bytes on a fresh connection, then reads until the server closes it or
// `timeout` passes. Returns everything received.
std::string SendRaw(uint16_t port, const std::string& bytes,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

// Splits raw response bytes into parsed responses (for pipelining tests).
std::vector<Reply> ParseResponses(const std::string& raw);

}  // namespace tokenmeter::testing

#endif  // TOKENMETER_TESTS_SUPPORT_HTTP_CLIENT_H_
