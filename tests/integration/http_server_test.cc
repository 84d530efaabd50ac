// The HTTP server's own paths that the edge's framing tests do not reach: answers larger
// than the socket takes at once (finished by an asynchronous write), a client that stops
// reading (cut off at the write deadline, nothing left counted), and a handler that throws
// (500, the connection serves on). Raw loopback sockets, so the client controls when it
// reads.
#include "tokenmeter/http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http_client.h"

namespace tokenmeter {
namespace {

using namespace std::chrono_literals;

// GET /big/<n>: a body of n bytes ('a' + i % 26). GET /stream/<n>: n pieces, streamed.
// GET /slow/<n>: n pieces made slowly. GET /throw: throws. Anything else: 200 "ok".
class TestHandler final : public HttpHandler {
 public:
  std::atomic<int> made{0};                 // pieces of /slow/ streams made so far
  std::atomic<int> made_when_answered{-1};  // `made` when the last "ok" was answered

  void Handle(HttpRequest request, Respond respond) override {
    HttpResponse r;
    r.content_type = "text/plain";
    if (request.target.rfind("/big/", 0) == 0) {
      size_t n = std::stoul(request.target.substr(5));
      r.body.resize(n);
      for (size_t i = 0; i < n; ++i) r.body[i] = static_cast<char>('a' + i % 26);
    } else if (request.target == "/throw") {
      throw std::runtime_error("handler failed");
    } else if (request.target.rfind("/stream/", 0) == 0) {
      // n pieces "piece <i>\n" and an empty one between each, produced one call at a time.
      auto left = std::make_shared<int>(std::stoi(request.target.substr(8)) * 2);
      r.stream = [left](std::string& piece) {
        if (*left % 2 == 0 && *left > 0) piece = "piece " + std::to_string(*left / 2) + "\n";
        return --*left > 0;
      };
    } else if (request.target.rfind("/slow/", 0) == 0) {
      // n pieces of 100 bytes, each taking ~100 us to make, counted in `made`.
      auto left = std::make_shared<int>(std::stoi(request.target.substr(6)));
      r.stream = [left, this](std::string& piece) {
        std::this_thread::sleep_for(100us);
        piece.assign(100, 'x');
        made.fetch_add(1);
        return --*left > 0;
      };
    } else {
      made_when_answered.store(made.load());
      r.body = "ok";
    }
    respond(std::move(r));
  }
};

// A connected socket whose receive buffer is small, so the server's send fills quickly.
int Connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int small = 64 << 10;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

void SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    sent += static_cast<size_t>(n);
  }
}

// Reads until the peer closes, an error, or `timeout` passes.
std::string ReadAll(int fd, std::chrono::milliseconds timeout) {
  std::string out;
  char buf[65536];
  auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left <= 0ms) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(int body_timeout_ms) {
    HttpServerConfig c;
    c.port = 0;
    c.body_timeout_ms = body_timeout_ms;
    server_ = std::make_unique<HttpServer>(c, handler_);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop(1s);
  }
  // Waits until the server holds no connection and no request.
  bool Idle(std::chrono::milliseconds within) {
    auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
      if (server_->Connections() == 0 && server_->InFlight() == 0) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  TestHandler handler_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, AnswersLargerThanTheSocketTakesAreWrittenWholeAndInOrder) {
  StartServer(10000);
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  // Two pipelined 12 MiB answers, then a small one; the client reads nothing for a while,
  // so the server's send stops part-way and the rest goes out as the client drains it.
  const size_t big = 12 << 20;
  SendAll(fd, "GET /big/" + std::to_string(big) + " HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /big/" +
                  std::to_string(big + 1) + " HTTP/1.1\r\nHost: x\r\n\r\n" +
                  "GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::this_thread::sleep_for(300ms);
  std::string raw = ReadAll(fd, 20s);
  close(fd);
  std::vector<testing::Reply> replies = testing::ParseResponses(raw);
  ASSERT_EQ(replies.size(), 3u) << raw.size() << " bytes";
  EXPECT_EQ(replies[0].status, 200);
  EXPECT_TRUE(replies[0].body == Pattern(big)) << replies[0].body.size();
  EXPECT_TRUE(replies[1].body == Pattern(big + 1)) << replies[1].body.size();
  EXPECT_EQ(replies[2].body, "ok");
  EXPECT_TRUE(Idle(3s));
}

TEST_F(HttpServerTest, AClientThatStopsReadingIsCutOffAtTheWriteDeadline) {
  StartServer(300);
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  auto start = std::chrono::steady_clock::now();
  SendAll(fd, "GET /big/" + std::to_string(32 << 20) + " HTTP/1.1\r\nHost: x\r\n\r\n");
  // The client never reads: the write cannot finish; the server gives up on it at the
  // deadline and holds nothing for it afterwards.
  auto until = start + 5s;
  while (server_->InFlight() == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(server_->InFlight(), 1);
  EXPECT_TRUE(Idle(5s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  std::string raw = ReadAll(fd, 5s);
  close(fd);
  EXPECT_LT(raw.size(), size_t{32} << 20);  // cut off, not finished
  // The server serves on.
  testing::Reply r = testing::Request(server_->port(), "GET", "/small");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
}

// A streamed body goes out chunked, a piece per call (empty ones send nothing), and the
// connection serves the next request after it.
TEST_F(HttpServerTest, AStreamedBodyIsSentChunkedAndTheConnectionGoesOn) {
  StartServer(10000);
  int fd = Connect(server_->port());
  ASSERT_GE(fd, 0);
  SendAll(fd, "GET /stream/3 HTTP/1.1\r\nHost: x\r\n\r\nGET /stream/0 HTTP/1.1\r\nHost: x\r\n\r\n"
              "GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string raw = ReadAll(fd, 5s);
  close(fd);
  EXPECT_NE(raw.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("\r\n\r\n8\r\npiece 3\n\r\n8\r\npiece 2\n\r\n8\r\npiece 1\n\r\n0\r\n\r\n"), std::string::npos)
      << raw;
  std::vector<testing::Reply> replies = testing::ParseResponses(raw);
  ASSERT_EQ(replies.size(), 3u) << raw;
  EXPECT_EQ(replies[0].body, "piece 3\npiece 2\npiece 1\n");
  EXPECT_EQ(replies[1].body, "") << "a stream with nothing in it";
  EXPECT_EQ(replies[2].body, "ok");
  EXPECT_TRUE(Idle(3s));
}

// A client reading a long stream as fast as it comes does not hold the server's thread:
// another connection on the same (only) thread is answered while the stream goes on.
TEST_F(HttpServerTest, ALongStreamLeavesTheThreadToOtherConnectionsBetweenPieces) {
  HttpServerConfig c;
  c.port = 0;
  c.threads = 1;
  server_ = std::make_unique<HttpServer>(c, handler_);
  ASSERT_TRUE(server_->Start().ok());
  constexpr int kPieces = 10000;  // ~1 s of making pieces
  std::string streamed;
  std::thread reader([&] {
    streamed = testing::SendRaw(server_->port(), "GET /slow/" + std::to_string(kPieces) +
                                                     " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                 20s);
  });
  auto until = std::chrono::steady_clock::now() + 5s;
  while (handler_.made.load() < 10 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
  ASSERT_GE(handler_.made.load(), 10) << "the stream did not start";
  std::vector<testing::Reply> ping = testing::ParseResponses(
      testing::SendRaw(server_->port(), "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  reader.join();
  ASSERT_EQ(ping.size(), 1u);
  EXPECT_EQ(ping[0].body, "ok");
  EXPECT_LT(handler_.made_when_answered.load(), kPieces) << "answered only once the stream had ended";
  std::vector<testing::Reply> replies = testing::ParseResponses(streamed);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].body, std::string(kPieces * 100, 'x'));
  EXPECT_TRUE(Idle(3s));
}

TEST_F(HttpServerTest, AHandlerThatThrowsGets500AndTheConnectionServesOn) {
  StartServer(10000);
  std::vector<testing::Reply> replies = testing::ParseResponses(
      testing::SendRaw(server_->port(),
                       "GET /throw HTTP/1.1\r\nHost: x\r\n\r\n"
                       "GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].status, 500);
  EXPECT_EQ(replies[1].status, 200);
  EXPECT_EQ(replies[1].body, "ok");
  EXPECT_TRUE(Idle(3s));
}

}  // namespace
}  // namespace tokenmeter
