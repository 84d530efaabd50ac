#include "tokenmeter/http/http_server.h"

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "tokenmeter/base/log.h"
#include "tokenmeter/base/thread_name.h"
#include "request_parser.h"
#include "tokenmeter/http/json_error.h"

namespace tokenmeter {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// The server's own error answer, with the configured members after reason and message.
HttpResponse ServerError(int status, std::string_view reason, std::string_view message, const std::string& members) {
  HttpResponse r = JsonError(status, reason, message);
  if (!members.empty()) {
    r.body.pop_back();
    r.body += members;
    r.body.push_back('}');
  }
  return r;
}

// Whether the server (and so its io_contexts) still exists. A handler may answer long after
// the request was given up on, from another thread (a bus delivery report); it must then
// touch nothing of the server's.
struct Liveness {
  std::mutex mu;
  bool alive = true;
};

struct Conn;

// One I/O thread: its io_context, the connections that live on it, and one timer that
// sweeps their deadlines (a connection arms no timer of its own).
struct Worker {
  Conn* conns = nullptr;     // intrusive list, touched only on this worker's thread
  Conn* handling = nullptr;  // the connection whose handler call is running on this thread
  std::unique_ptr<asio::io_context> ctx = std::make_unique<asio::io_context>(1);
  asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(*ctx);
  asio::steady_timer sweep{*ctx};
};

thread_local Worker* this_worker = nullptr;

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
  // one of them, so its handlers never run concurrently, and threads do not contend for
  // one scheduler's lock (the shared-context design spent ~15% of a request's CPU in
  // futex and mutex calls). Connections are dealt round-robin.
  std::vector<std::unique_ptr<Worker>> workers;
  size_t next_worker = 0;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<int> in_flight{0};
  std::atomic<int> connections{0};
  std::atomic<bool> stopping{false};
  uint16_t bound_port = 0;
  std::shared_ptr<Liveness> life = std::make_shared<Liveness>();
  std::chrono::milliseconds sweep_every{100};

  void Accept();
  void Sweep(Worker& w);
};

namespace {

constexpr size_t kFirstReadBytes = 4096;
constexpr std::uint64_t kMaxReadChunk = 64 << 10;
constexpr int kLingerMs = 2000;
constexpr size_t kLingerMaxBytes = 16 << 20;

// One connection, driven by callbacks on its worker's thread: read what the socket has,
// parse, call the handler, write the answer with one send (a non-blocking send first; an
// asynchronous write only for what the socket would not take), then the next request.
// No coroutine frame, no composed operation and no timer per request: a request costs
// one recvmsg, one sendmsg and its share of an epoll_wait.
struct Conn final : std::enable_shared_from_this<Conn> {
  enum class Phase { kHeader, kBody, kHandler, kWrite, kLinger, kClosed };
  // What follows the write in progress.
  enum class Then { kNextRequest, kReadBody, kClose, kLinger };

  Conn(HttpServer::Impl& s, Worker& w, tcp::socket sock)
      : server(s), worker(w), socket(std::move(sock)) {
    server.connections.fetch_add(1);
  }

  ~Conn() {
    if (prev)
      prev->next = next;
    else if (worker.conns == this)
      worker.conns = next;
    if (next) next->prev = prev;
    if (counted) server.in_flight.fetch_sub(1);
    server.connections.fetch_sub(1);
  }

  void Start() {
    next = worker.conns;
    if (next) next->prev = this;
    worker.conns = this;
    beast::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.set_option(tcp::no_delay(true), ignored);
    NewRequest();
    Drive();
  }

  void NewRequest() {
    parser.emplace();
    parser->header_limit(server.config.max_header_bytes);
    parser->body_limit(server.config.max_body_bytes);
    phase = Phase::kHeader;
    deadline = Clock::now() + std::chrono::milliseconds(server.config.header_timeout_ms);
  }

  // Advances the connection as far as it can go without waiting.
  void Drive() {
    std::shared_ptr<Conn> hold = shared_from_this();
    for (;;) {
      switch (phase) {
        case Phase::kHeader:
        case Phase::kBody:
          if (!Parse()) return;
          break;
        case Phase::kHandler:
          if (!response) return;
          self.reset();
          if (server.stopping) response->close = true;
          keep_alive = keep_alive && !response->close;
          stream = std::move(response->stream);
          Format(*response, keep_alive);
          response.reset();
          then = keep_alive ? Then::kNextRequest : Then::kClose;
          break;
        case Phase::kWrite:
          if (!Flush()) return;
          if (stream) return NextPieceLater();
          AfterWrite();
          break;
        case Phase::kLinger:
          Read();
          return;
        case Phase::kClosed:
          return;
      }
    }
  }

  // Feeds buffered bytes to the parser. False when it needs more bytes (a read is started).
  bool Parse() {
    for (;;) {
      beast::error_code ec = http::error::need_more;
      if (in_begin < in_end) {
        ec = {};
        in_begin += parser->put(asio::buffer(in.get() + in_begin, in_end - in_begin), ec);
        if (in_begin == in_end) in_begin = in_end = 0;
      }
      if (ec == http::error::need_more) {
        Read();
        return false;
      }
      if (ec) {
        Refuse(ec);
        return true;
      }
      if (phase == Phase::kHeader && parser->is_header_done()) {
        OnHeader();
        if (phase != Phase::kBody) return true;
      }
      if (parser->is_done()) {
        Dispatch();
        return true;
      }
    }
  }

  void OnHeader() {
    if (parser->transfer_encodings > 0 &&
        (parser->transfer_encodings > 1 || !parser->chunked_only)) {
      Refuse(400, "bad_transfer_encoding", "only Transfer-Encoding: chunked is accepted");
      return;
    }
    parser->eager(true);
    phase = Phase::kBody;
    deadline = Clock::now() + std::chrono::milliseconds(server.config.body_timeout_ms);
    if (parser->expect_continue) {
      out.assign("HTTP/1.1 100 Continue\r\n\r\n");
      phase = Phase::kWrite;
      then = Then::kReadBody;
    }
  }

  void Refuse(const beast::error_code& ec) {
    if (ec == http::error::header_limit) {
      Refuse(431, "headers_too_large", "request headers too large");
    } else if (ec == http::error::body_limit) {
      Refuse(413, "body_too_large", "request body too large");
    } else {
      Refuse(400, "bad_request",
             phase == Phase::kHeader ? "malformed HTTP request" : "malformed HTTP request body");
    }
  }

  // The server's own refusal (no handler involved): answered, then a lingering close.
  void Refuse(int status, std::string_view reason, std::string_view message) {
    keep_alive = false;
    HttpResponse r = ServerError(status, reason, message, server.config.error_members);
    r.close = true;  // framing errors end the connection
    Format(r, /*keep=*/false);
    then = Then::kLinger;
  }

  void Dispatch() {
    parser->TakeApiKey();
    keep_alive = parser->keep_alive();
    HttpRequest request = std::move(parser->request);
    uint64_t s = ++seq;
    response.reset();
    counted = true;
    server.in_flight.fetch_add(1);
    phase = Phase::kHandler;
    deadline = Clock::now() + std::chrono::milliseconds(server.config.handler_deadline_ms);
    self = shared_from_this();  // no I/O is pending while the handler works
    Worker* w = &worker;
    Conn* raw = this;
    std::weak_ptr<Conn> weak = self;
    worker.handling = this;
    try {
      server.handler.Handle(
          std::move(request), [w, raw, weak, s, life = server.life](HttpResponse r) {
            std::lock_guard lock(life->mu);
            if (!life->alive) return;
            if (this_worker == w && w->handling == raw && raw->seq == s) {
              raw->response = std::move(r);  // answered inside Handle, on this thread
              return;
            }
            asio::post(*w->ctx, [weak, s, r = std::move(r)]() mutable {
              std::shared_ptr<Conn> c = weak.lock();
              if (!c || c->seq != s || c->phase != Phase::kHandler) return;  // given up on
              c->response = std::move(r);
              c->Drive();
            });
          });
    } catch (const std::exception& e) {
      Log(LogLevel::kError, "http", "handler_exception", {{"what", e.what()}});
      if (!response) {
        response = ServerError(500, "internal", "the request could not be handled", server.config.error_members);
      }
    }
    worker.handling = nullptr;
  }

  // Formats a response into `out` (status line, headers and body in one buffer, for one
  // send) and moves to the write phase.
  void Format(const HttpResponse& r, bool keep) {
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
    if (!keep) out.append("\r\nConnection: close");
    // 1xx, 204 and 304 carry no body and no Content-Length (RFC 9110 8.6).
    bool bodiless = r.status < 200 || r.status == 204 || r.status == 304;
    if (stream) {
      out.append("\r\nTransfer-Encoding: chunked");
    } else if (!bodiless) {
      out.append("\r\nContent-Length: ");
      out.append(std::to_string(r.body.size()));
    }
    out.append("\r\n\r\n");
    if (!bodiless && !stream) out.append(r.body);
    phase = Phase::kWrite;
    deadline = Clock::now() + std::chrono::milliseconds(server.config.body_timeout_ms);
  }

  // Sends `out`. False while an asynchronous write is finishing it (or the connection closed).
  bool Flush() {
    while (out_sent < out.size()) {
      beast::error_code ec;
      size_t n = socket.write_some(asio::buffer(out.data() + out_sent, out.size() - out_sent), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        asio::async_write(socket, asio::buffer(out.data() + out_sent, out.size() - out_sent),
                          [c = shared_from_this()](beast::error_code ec, size_t) {
                            if (c->phase != Phase::kWrite) return;
                            if (ec) return c->Close();
                            c->out_sent = c->out.size();
                            c->Drive();
                          });
        return false;
      }
      if (ec) {
        Close();
        return false;
      }
      out_sent += n;
    }
    return true;
  }

  // The next piece of a streamed body, framed as a chunk (the last one followed by the
  // empty chunk that ends the body), into `out`; back to the write phase.
  void NextPiece() {
    out.clear();
    out_sent = 0;
    std::string piece;
    const bool more = stream(piece);
    if (!piece.empty()) {
      char size[20];
      out.append(size, static_cast<size_t>(std::snprintf(size, sizeof(size), "%zx\r\n", piece.size())));
      out.append(piece);
      out.append("\r\n");
    }
    if (!more) {
      out.append("0\r\n\r\n");
      stream = nullptr;
    }
    phase = Phase::kWrite;
    deadline = Clock::now() + std::chrono::milliseconds(server.config.body_timeout_ms);
  }

  // A streamed body's next piece, once the other connections of this thread have had
  // their turn: a client that reads as fast as the pieces come would otherwise keep the
  // thread writing to it until the stream ends (an export of millions of rows), and
  // every other connection of the thread would wait that long.
  void NextPieceLater() {
    asio::post(*worker.ctx, [c = shared_from_this()] {
      if (c->phase != Phase::kWrite) return;  // closed meanwhile
      c->NextPiece();
      c->Drive();
    });
  }

  void AfterWrite() {
    out.clear();
    out_sent = 0;
    if (counted) {
      counted = false;
      server.in_flight.fetch_sub(1);
    }
    switch (then) {
      case Then::kReadBody:
        phase = Phase::kBody;
        deadline = Clock::now() + std::chrono::milliseconds(server.config.body_timeout_ms);
        break;
      case Then::kNextRequest:
        NewRequest();
        break;
      case Then::kClose:
        Close();
        break;
      case Then::kLinger: {
        // After refusing a request whose body may still be arriving, read and discard what
        // the client sends for a bounded time and size before closing: closing with unread
        // bytes makes the kernel send RST, and the client may lose the refusal it is owed.
        beast::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_send, ignored);
        phase = Phase::kLinger;
        deadline = Clock::now() + std::chrono::milliseconds(kLingerMs);
        in_begin = in_end = 0;
        break;
      }
    }
  }

  // Starts one asynchronous read into the free end of the buffer.
  void Read() {
    size_t want = kFirstReadBytes;
    if (phase == Phase::kBody) {
      // Room for the rest of a declared body (up to kMaxReadChunk): a large body in a few
      // reads, not one per small buffer's worth.
      if (auto left = parser->content_length_remaining()) {
        want = std::max<size_t>(want, std::min<std::uint64_t>(*left, kMaxReadChunk));
      }
    }
    if (in_cap - in_end < want) {
      if (in_begin > 0) {
        std::memmove(in.get(), in.get() + in_begin, in_end - in_begin);
        in_end -= in_begin;
        in_begin = 0;
      }
      if (in_cap - in_end < want) {
        // Headers must be whole in the buffer; the parser refuses them past the limit.
        size_t cap = std::max(in_end + want, in_cap * 2);
        auto grown = std::make_unique<char[]>(cap);
        if (in_end > 0) std::memcpy(grown.get(), in.get(), in_end);
        in = std::move(grown);
        in_cap = cap;
      }
    }
    socket.async_read_some(
        asio::buffer(in.get() + in_end, in_cap - in_end),
        [c = shared_from_this()](beast::error_code ec, size_t n) { c->OnRead(ec, n); });
  }

  void OnRead(const beast::error_code& ec, size_t n) {
    if (phase == Phase::kClosed) return;
    if (phase == Phase::kLinger) {
      drained += n;
      if (ec || drained >= kLingerMaxBytes) return Close();
      in_begin = in_end = 0;
      return Read();
    }
    if (ec) {
      // The peer closed in the middle of a request's header: refuse it (a client still
      // reading gets its answer). Anything else ends the connection quietly.
      if (ec == asio::error::eof && phase == Phase::kHeader &&
          (in_end > in_begin || parser->got_some())) {
        Refuse(http::error::partial_message);
        return Drive();
      }
      return Close();
    }
    in_end += n;
    Drive();
  }

  // The sweep found this connection past its deadline.
  void Expire() {
    if (phase == Phase::kHandler) {
      HttpResponse r = ServerError(503, "deadline_exceeded", "the request could not be completed in time; retry",
                                   server.config.error_members);
      r.headers.emplace_back("Retry-After", "1");
      response = std::move(r);  // the handler's late answer finds another phase or seq
      Drive();
      return;
    }
    Close();
  }

  // May end the connection's life when it returns (nothing else may hold it).
  void Close() {
    if (phase == Phase::kClosed) return;
    phase = Phase::kClosed;
    std::shared_ptr<Conn> last = std::move(self);
    beast::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    socket.close(ignored);  // cancels a pending read or write; its handler lets go
  }

  HttpServer::Impl& server;
  Worker& worker;
  tcp::socket socket;
  Conn* prev = nullptr;
  Conn* next = nullptr;
  Phase phase = Phase::kHeader;
  Then then = Then::kNextRequest;
  Clock::time_point deadline;
  std::optional<RequestParser> parser;
  std::unique_ptr<char[]> in;  // bytes read: [in_begin, in_end) not yet parsed
  size_t in_cap = 0;
  size_t in_begin = 0;
  size_t in_end = 0;
  std::string out;  // the response being written, reused
  size_t out_sent = 0;
  std::function<bool(std::string&)> stream;  // the streamed body being sent, if any
  size_t drained = 0;  // bytes discarded while lingering
  bool keep_alive = true;
  bool counted = false;  // this connection holds one of in_flight
  uint64_t seq = 0;      // names the request a handler's answer is for
  std::optional<HttpResponse> response;
  std::shared_ptr<Conn> self;  // keeps the connection while its handler works
};

}  // namespace

void HttpServer::Impl::Accept() {
  Worker& home = *workers[next_worker];
  next_worker = (next_worker + 1) % workers.size();
  acceptor->async_accept(*home.ctx, [this, &home](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping) return;
      return Accept();  // EMFILE and friends: keep serving the connections we have
    }
    if (connections.load() >= config.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);  // over the bound: refuse rather than queue unboundedly
      return Accept();
    }
    asio::post(*home.ctx, [this, &home, socket = std::move(socket)]() mutable {
      std::make_shared<Conn>(*this, home, std::move(socket))->Start();
    });
    Accept();
  });
}

void HttpServer::Impl::Sweep(Worker& w) {
  Clock::time_point now = Clock::now();
  for (Conn* c = w.conns; c != nullptr;) {
    Conn* next = c->next;
    if (c->phase != Conn::Phase::kClosed && now >= c->deadline) c->Expire();
    c = next;
  }
  w.sweep.expires_after(sweep_every);
  w.sweep.async_wait([this, &w](beast::error_code ec) {
    if (!ec) Sweep(w);
  });
}

HttpServer::HttpServer(HttpServerConfig config, HttpHandler& handler)
    : impl_(std::make_unique<Impl>(std::move(config), handler)) {}

HttpServer::~HttpServer() {
  Stop(std::chrono::milliseconds(0));
  {
    std::lock_guard lock(impl_->life->mu);
    impl_->life->alive = false;
  }
  // The connections go with their io_contexts, while the rest of the server still exists.
  impl_->acceptor.reset();
  impl_->workers.clear();
}

Status HttpServer::Start() {
  RETURN_IF_ERROR(impl_->config.Validate());
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->config.address, ec);
  if (ec) return InvalidArgument("bad listen address " + impl_->config.address);
  tcp::endpoint endpoint(address, impl_->config.port);
  const HttpServerConfig& c = impl_->config;
  // Deadlines are checked a tenth of the shortest timeout apart (5..250 ms).
  int shortest = std::min({c.header_timeout_ms, c.body_timeout_ms, c.handler_deadline_ms});
  impl_->sweep_every = std::chrono::milliseconds(std::clamp(shortest / 10, 5, 250));
  for (int i = 0; i < c.threads; ++i) impl_->workers.push_back(std::make_unique<Worker>());
  auto& acc = impl_->acceptor.emplace(*impl_->workers[0]->ctx);
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("cannot listen on " + impl_->config.address + ":" +
                       std::to_string(impl_->config.port) + ": " + ec.message());
  }
  impl_->bound_port = acc.local_endpoint().port();
  impl_->Accept();
  for (int i = 0; i < c.threads; ++i) {
    impl_->threads.emplace_back([this, i] {
      NameThisThread("tm-http");
      Worker& w = *impl_->workers[i];
      this_worker = &w;
      impl_->Sweep(w);
      for (;;) {
        try {
          w.ctx->run();
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
  asio::post(*impl_->workers[0]->ctx, [this] {
    beast::error_code ignored;
    if (impl_->acceptor) impl_->acceptor->close(ignored);
  });
  auto until = std::chrono::steady_clock::now() + drain;
  while (impl_->in_flight.load() > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& w : impl_->workers) w->ctx->stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  // Connections still waiting for a handler hold themselves; let them go.
  for (auto& w : impl_->workers) {
    for (Conn* c = w->conns; c != nullptr;) {
      Conn* next = c->next;
      c->Close();
      c = next;
    }
  }
}

}  // namespace tokenmeter
