#include "tokenmeter/http/http_server.h"

#include "tokenmeter/base/log.h"
#include "tokenmeter/base/thread_name.h"
#include "tokenmeter/http/json_error.h"

#include <array>
#include <atomic>
#include <mutex>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>
#include <thread>

namespace tokenmeter {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

HttpResponse ErrorResponse(int status, std::string_view reason, std::string_view message) {
  HttpResponse r = JsonError(status, reason, message);
  r.close = true;  // framing errors end the connection
  return r;
}

// A connection's wait for its handler's answers, reused request after request. The timer
// is the wake-up: the answer arriving cancels it, the deadline expiring fires it. `seq`
// names the request being waited for, so a late answer to an abandoned request is dropped.
// An answer given inside Handle, on the connection's own thread (health, metrics, refusals),
// is stored directly, with no timer and no hand-off.
struct PendingResponse {
  explicit PendingResponse(asio::any_io_executor ex) : timer(ex), owner(std::this_thread::get_id()) {}
  asio::steady_timer timer;
  const std::thread::id owner;  // the connection's I/O thread
  std::atomic<bool> in_handle{false};
  uint64_t seq = 0;
  std::optional<HttpResponse> response;
  bool abandoned = false;
};

// Whether the server (and so its io_context) still exists. A handler may answer long after
// the request was given up on, from another thread (a bus delivery report); it must then
// touch nothing of the server's: no executor, no timer.
struct Liveness {
  std::mutex mu;
  bool alive = true;
};

}  // namespace

Status HttpServerConfig::Validate() const {
  if (threads < 1 || threads > 256) return InvalidArgument("http threads must be in [1, 256]");
  if (max_header_bytes < 1024) return InvalidArgument("max_header_bytes must be >= 1024");
  if (header_timeout_ms < 100 || body_timeout_ms < 100 || handler_deadline_ms < 100) {
    return InvalidArgument("http timeouts must be >= 100 ms");
  }
  if (max_connections < 1) return InvalidArgument("max_connections must be >= 1");
  return Status::Ok();
}

struct HttpServer::Impl {
  Impl(HttpServerConfig c, HttpHandler& h) : config(std::move(c)), handler(h) {}

  HttpServerConfig config;
  HttpHandler& handler;
  // One io_context per I/O thread, each run by that thread alone: a connection lives on
  // one of them, so its handlers never run concurrently without a strand, and threads do
  // not contend for one scheduler's lock (the shared-context design spent ~15% of a
  // request's CPU in futex and mutex calls). Connections are dealt round-robin.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  size_t next_context = 0;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<int> in_flight{0};
  std::atomic<int> connections{0};
  std::atomic<bool> stopping{false};
  uint16_t bound_port = 0;
  std::shared_ptr<Liveness> life = std::make_shared<Liveness>();

  asio::awaitable<void> Accept() {
    for (;;) {
      asio::io_context& home = *contexts[next_context];
      next_context = (next_context + 1) % contexts.size();
      auto [ec, socket] = co_await acceptor->async_accept(home, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted || stopping) co_return;
        continue;  // EMFILE and friends: keep serving the connections we have
      }
      if (connections.load() >= config.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);  // over the bound: refuse rather than queue unboundedly
        continue;
      }
      auto ex = socket.get_executor();
      asio::co_spawn(ex, Session(std::move(socket)), asio::detached);
    }
  }

  // One buffer, one send: the status line, the headers and the body are written into the
  // connection's reusable `out` string (Beast's serializer walks a chain of buffer views
  // per write, a few percent of a small request's CPU).
  asio::awaitable<void> Write(beast::tcp_stream& stream, const HttpResponse& r, bool keep_alive,
                              std::string& out) {
    out.clear();
    out.append("HTTP/1.1 ");
    out.append(std::to_string(r.status));
    out.push_back(' ');
    beast::string_view reason = http::obsolete_reason(static_cast<http::status>(r.status));
    out.append(reason.data(), reason.size());
    out.append("\r\nContent-Type: ");
    out.append(r.content_type);
    for (const auto& [k, v] : r.headers) {
      out.append("\r\n");
      out.append(k);
      out.append(": ");
      out.append(v);
    }
    if (!keep_alive) out.append("\r\nConnection: close");
    // 1xx, 204 and 304 carry no body and no Content-Length (RFC 9110 8.6).
    bool bodiless = r.status < 200 || r.status == 204 || r.status == 304;
    if (!bodiless) {
      out.append("\r\nContent-Length: ");
      out.append(std::to_string(r.body.size()));
    }
    out.append("\r\n\r\n");
    if (!bodiless) out.append(r.body);
    stream.expires_after(std::chrono::milliseconds(config.body_timeout_ms));
    co_await asio::async_write(stream, asio::buffer(out), asio::as_tuple(asio::use_awaitable));
  }

  // Calls the handler and waits for its answer or the deadline, on this connection's context.
  // Only the session owns `pending`; the handler's callback holds it weakly and checks that
  // the server is alive, so a late answer never outlives the io_context.
  asio::awaitable<HttpResponse> Dispatch(const std::shared_ptr<PendingResponse>& pending,
                                         HttpRequest request) {
    uint64_t seq = ++pending->seq;
    pending->response.reset();
    pending->abandoned = false;
    std::weak_ptr<PendingResponse> weak = pending;
    pending->in_handle.store(true, std::memory_order_release);
    handler.Handle(std::move(request), [weak, seq, life = life](HttpResponse r) {
      std::lock_guard lock(life->mu);
      if (!life->alive) return;
      std::shared_ptr<PendingResponse> p = weak.lock();
      if (!p) return;
      if (p->in_handle.load(std::memory_order_acquire) && p->owner == std::this_thread::get_id()) {
        p->response = std::move(r);  // answered inside Handle
        return;
      }
      asio::post(p->timer.get_executor(), [weak, seq, r = std::move(r)]() mutable {
        std::shared_ptr<PendingResponse> p = weak.lock();
        if (!p || p->seq != seq || p->abandoned) return;
        p->response = std::move(r);
        p->timer.cancel();
      });
    });
    pending->in_handle.store(false, std::memory_order_release);
    if (!pending->response) {
      // An answer posted from another thread runs on this thread only after this wait
      // starts, so it cannot be missed.
      pending->timer.expires_after(std::chrono::milliseconds(config.handler_deadline_ms));
      co_await pending->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (pending->response) co_return std::move(*pending->response);
    pending->abandoned = true;
    HttpResponse r = JsonError(503, "deadline_exceeded",
                               "the request could not be completed in time; retry");
    r.headers.emplace_back("Retry-After", "1");
    co_return r;
  }

  // After refusing a request whose body is still arriving, read and discard what the
  // client sends for a bounded time and size before closing: closing with unread bytes
  // makes the kernel send RST, and the client may lose the refusal it is owed.
  asio::awaitable<void> LingeringClose(beast::tcp_stream& stream) {
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.expires_after(std::chrono::milliseconds(kLingerMs));
    std::array<char, 16384> sink;
    size_t drained = 0;
    while (drained < kLingerMaxBytes) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink),
                                                     asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      drained += n;
    }
  }

  static constexpr std::uint64_t kMaxReadChunk = 64 << 10;
  static constexpr int kLingerMs = 2000;
  static constexpr size_t kLingerMaxBytes = 16 << 20;

  asio::awaitable<void> Session(tcp::socket socket) {
    connections.fetch_add(1);
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    std::string out;  // the response being written, reused
    auto pending = std::make_shared<PendingResponse>(stream.get_executor());
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(config.max_header_bytes);
      parser.body_limit(config.max_body_bytes);
      stream.expires_after(std::chrono::milliseconds(config.header_timeout_ms));
      auto [ec, header_bytes] = co_await http::async_read_header(stream, buffer, parser,
                                                   asio::as_tuple(asio::use_awaitable));
      (void)header_bytes;
      std::optional<HttpResponse> reject;
      if (ec) {
        if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
            ec == asio::error::connection_reset || ec == asio::error::eof) {
          break;
        }
        if (ec == http::error::header_limit) {
          reject = ErrorResponse(431, "headers_too_large", "request headers too large");
        } else if (ec == http::error::body_limit) {
          reject = ErrorResponse(413, "body_too_large", "request body too large");
        } else {
          reject = ErrorResponse(400, "bad_request", "malformed HTTP request");
        }
      } else {
        auto& req = parser.get();
        auto te = req.find(http::field::transfer_encoding);
        if (te != req.end() && !beast::iequals(Trim(te->value()), "chunked")) {
          reject = ErrorResponse(400, "bad_transfer_encoding",
                                 "only Transfer-Encoding: chunked is accepted");
        } else if (beast::iequals(Trim(req[http::field::expect]), "100-continue")) {
          http::response<http::empty_body> cont{http::status::continue_, 11};
          co_await http::async_write(stream, cont, asio::as_tuple(asio::use_awaitable));
        }
      }
      if (!reject) {
        // Beast reads as much as the buffer has room for, and the parser empties it into
        // the body, so a buffer left at its first size reads a large body ~1 KiB per
        // system call. Room for the declared body (up to kMaxReadChunk) makes it a few.
        if (auto len = parser.content_length()) {
          size_t want = buffer.size() + static_cast<size_t>(std::min<std::uint64_t>(*len, kMaxReadChunk));
          if (want > buffer.capacity()) buffer.reserve(want);
        }
        stream.expires_after(std::chrono::milliseconds(config.body_timeout_ms));
        auto [ec2, n] = co_await http::async_read(stream, buffer, parser,
                                                  asio::as_tuple(asio::use_awaitable));
        (void)n;
        if (ec2 == http::error::body_limit) {
          reject = ErrorResponse(413, "body_too_large", "request body too large");
        } else if (ec2 == beast::error::timeout || ec2 == http::error::end_of_stream ||
                   ec2 == asio::error::eof || ec2 == asio::error::connection_reset) {
          break;
        } else if (ec2) {
          reject = ErrorResponse(400, "bad_request", "malformed HTTP request body");
        }
      }
      if (reject) {
        co_await Write(stream, *reject, /*keep_alive=*/false, out);
        co_await LingeringClose(stream);
        break;
      }

      auto req = parser.release();
      bool keep_alive = req.keep_alive();
      HttpRequest request;
      request.method = std::string(req.method_string());
      request.target = std::string(req.target());
      request.content_type = std::string(req[http::field::content_type]);
      auto key = req.find("X-API-Key");
      if (key != req.end()) {
        request.api_key = std::string(Trim(key->value()));
      } else {
        std::string_view auth = Trim(req[http::field::authorization]);
        if (auth.size() > 7 && beast::iequals(auth.substr(0, 7), "Bearer ")) {
          request.api_key = std::string(Trim(auth.substr(7)));
        }
      }
      request.body = std::move(req.body());

      in_flight.fetch_add(1);
      HttpResponse response = co_await Dispatch(pending, std::move(request));
      if (stopping) response.close = true;
      keep_alive = keep_alive && !response.close;
      co_await Write(stream, response, keep_alive, out);
      in_flight.fetch_sub(1);
      if (!keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    connections.fetch_sub(1);
  }
};

HttpServer::HttpServer(HttpServerConfig config, HttpHandler& handler)
    : impl_(std::make_unique<Impl>(std::move(config), handler)) {}

HttpServer::~HttpServer() {
  Stop(std::chrono::milliseconds(0));
  std::lock_guard lock(impl_->life->mu);
  impl_->life->alive = false;
}

Status HttpServer::Start() {
  RETURN_IF_ERROR(impl_->config.Validate());
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->config.address, ec);
  if (ec) return InvalidArgument("bad listen address " + impl_->config.address);
  tcp::endpoint endpoint(address, impl_->config.port);
  for (int i = 0; i < impl_->config.threads; ++i) {
    impl_->contexts.push_back(std::make_unique<asio::io_context>(1));
    impl_->guards.push_back(asio::make_work_guard(*impl_->contexts.back()));
  }
  auto& acc = impl_->acceptor.emplace(*impl_->contexts[0]);
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("cannot listen on " + impl_->config.address + ":" +
                       std::to_string(impl_->config.port) + ": " + ec.message());
  }
  impl_->bound_port = acc.local_endpoint().port();
  asio::co_spawn(*impl_->contexts[0], impl_->Accept(), asio::detached);
  for (int i = 0; i < impl_->config.threads; ++i) {
    impl_->threads.emplace_back([this, i] {
      NameThisThread("tm-http");
      for (;;) {
        try {
          impl_->contexts[i]->run();
          return;
        } catch (const std::exception& e) {
          // A third-party exception escaped a handler; keep the thread serving.
          Log(LogLevel::kError, "http", "handler_exception", {{"what", e.what()}});
        }
      }
    });
  }
  return Status::Ok();
}

uint16_t HttpServer::port() const { return impl_->bound_port; }
int HttpServer::InFlight() const { return impl_->in_flight.load(); }
int HttpServer::Connections() const { return impl_->connections.load(); }

void HttpServer::Stop(std::chrono::milliseconds drain) {
  if (impl_->threads.empty()) return;
  impl_->stopping = true;
  asio::post(*impl_->contexts[0], [this] {
    beast::error_code ignored;
    if (impl_->acceptor) impl_->acceptor->close(ignored);
  });
  auto until = std::chrono::steady_clock::now() + drain;
  while (impl_->in_flight.load() > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& c : impl_->contexts) c->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace tokenmeter
