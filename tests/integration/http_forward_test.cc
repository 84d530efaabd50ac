// ForwardHttp against a real HttpServer on loopback: the request arrives with its method,
// target, body, key and the forwarded mark; the answer comes back with its status, type,
// body and end-to-end headers; an unreachable process and an answer over the bound are
// errors of their own.
#include "tokenmeter/http/http_forward.h"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>

namespace tokenmeter {
namespace {

// Remembers the last request; answers 207 with it echoed, or /big with 2 MiB.
class EchoHandler final : public HttpHandler {
 public:
  void Handle(HttpRequest request, Respond respond) override {
    HttpResponse r;
    if (request.target == "/big") {
      r.body.assign(2 << 20, 'x');
    } else {
      r.status = 207;
      r.content_type = "text/csv";
      r.headers.emplace_back("Retry-After", "3");
      r.body = request.method + " " + request.target + " " + request.body;
    }
    {
      std::lock_guard lock(mu);
      last = request;
    }
    respond(std::move(r));
  }
  std::mutex mu;
  HttpRequest last;
};

TEST(HttpForwardTest, TheRequestGoesOnMarkedAndTheAnswerComesBackWhole) {
  EchoHandler handler;
  HttpServerConfig config;
  config.port = 0;
  auto server = std::make_unique<HttpServer>(config, handler);
  ASSERT_TRUE(server->Start().ok());
  const std::string url = "http://127.0.0.1:" + std::to_string(server->port());

  HttpRequest request;
  request.method = "POST";
  request.target = "/v1/alerts/alrt_1/replay?x=1";
  request.api_key = "tm_test_key";
  request.content_type = "application/json";
  request.body = R"({"a":1})";
  Result<HttpResponse> answer = ForwardHttp(url, request);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(answer->status, 207);
  EXPECT_EQ(answer->content_type, "text/csv");
  EXPECT_EQ(answer->body, R"(POST /v1/alerts/alrt_1/replay?x=1 {"a":1})");
  ASSERT_EQ(answer->headers.size(), 1u);  // Content-Length and Content-Type are the response's own
  EXPECT_EQ(answer->headers[0], (std::pair<std::string, std::string>{"Retry-After", "3"}));
  {
    std::lock_guard lock(handler.mu);
    EXPECT_TRUE(handler.last.forwarded);
    EXPECT_EQ(handler.last.api_key, "tm_test_key");
    EXPECT_EQ(handler.last.content_type, "application/json");
  }

  // Over the bound: refused as too large, not cut short.
  request.method = "GET";
  request.target = "/big";
  request.body.clear();
  answer = ForwardHttp(url, request, {std::chrono::milliseconds(5000), 1 << 20});
  EXPECT_EQ(answer.status().code(), Code::kResourceExhausted) << answer.status().ToString();
  answer = ForwardHttp(url, request);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(answer->body.size(), 2u << 20);

  server->Stop(std::chrono::milliseconds(500));
  server.reset();
  // Nobody listening any more.
  answer = ForwardHttp(url, request);
  EXPECT_EQ(answer.status().code(), Code::kUnavailable) << answer.status().ToString();
  EXPECT_EQ(ForwardHttp("https://127.0.0.1:1", request).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace tokenmeter
