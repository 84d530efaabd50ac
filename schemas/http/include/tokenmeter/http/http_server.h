// HttpServer: HTTP/1.1 for every tokenmeter process (ingest, query, /metrics): Asio's
// reactor and Beast's request parser, driven by plain callbacks. Keep-alive and pipelining
// (requests on one connection are answered in order), bounded everything: header bytes
// (431), body bytes (413), header/body read deadlines (slowloris), connection count, and a
// per-request handler deadline after which the server answers 503 itself. Framing it
// refuses with 400 and a close: Content-Length together with Transfer-Encoding, any
// Transfer-Encoding other than exactly one "chunked", differing Content-Length values,
// malformed chunk sizes.
//
// Threads: Start() runs `threads` I/O threads, each with its own io_context. Each
// connection lives on one of them (dealt round-robin); HttpHandler::Handle is called on
// that thread and may answer from any thread. Deadlines are not timers: each I/O thread
// sweeps its connections a tenth of the shortest timeout apart (5..250 ms), so a deadline
// fires up to that much late, never early.
#ifndef TOKENMETER_HTTP_HTTP_SERVER_H_
#define TOKENMETER_HTTP_HTTP_SERVER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenmeter/base/status.h"

namespace tokenmeter {

struct HttpRequest {
  std::string method;        // "GET", "POST", ...
  std::string target;        // path and query, as sent
  std::string content_type;  // Content-Type header, "" if absent
  std::string api_key;       // X-API-Key, or the token of "Authorization: Bearer <token>"
  std::string body;
  bool forwarded = false;    // X-Tokenmeter-Forwarded: sent on by another processor
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra, e.g. Retry-After
  bool close = false;  // close the connection after this response
  // A body produced piece by piece (an export), sent with Transfer-Encoding: chunked
  // instead of `body`: called on the connection's I/O thread once the headers, then each
  // piece, are sent; it appends the next piece to `piece` (empty is allowed) and returns
  // false after the last one. Memory stays one piece however long the body. A client that
  // stops reading for the body timeout is cut off.
  std::function<bool(std::string& piece)> stream;
};

// Answers requests. Handle() is called on an I/O thread; `respond` must be called exactly
// once, from any thread. A handler that misses the server's deadline is answered 503 for
// it, and its late response is dropped.
class HttpHandler {
 public:
  using Respond = std::function<void(HttpResponse)>;
  virtual ~HttpHandler() = default;
  virtual void Handle(HttpRequest request, Respond respond) = 0;
};

struct HttpServerConfig {
  // Listen address. Default 127.0.0.1.
  std::string address = "127.0.0.1";
  // Listen port; 0 picks a free port (see HttpServer::port()). Default 8081.
  uint16_t port = 8081;
  // I/O threads. Default 2.
  int threads = 2;
  // Largest request line + headers, bytes; more gets 431. Default 16384.
  uint32_t max_header_bytes = 16384;
  // Largest body, bytes; more gets 413. Default 1 MiB (the ingest body bound).
  uint64_t max_body_bytes = 1 << 20;
  // Time allowed to receive a request's headers, including keep-alive idle time. Default 15000.
  int header_timeout_ms = 15000;
  // Time allowed to receive a request's body. Default 30000.
  int body_timeout_ms = 30000;
  // Time a handler may take before the server answers 503 itself. Default 10000.
  int handler_deadline_ms = 10000;
  // Concurrent connections; beyond it new connections are closed at once. Default 10000.
  int max_connections = 10000;
  // Members appended to the server's own error bodies (framing 400s, 413, 431, the
  // handler deadline's 503, a failed handler's 500), e.g. `,"x":true`: the edge's status
  // fields, so every answer of an ingest path carries them. Default none.
  std::string error_members;

  Status Validate() const;
};

class HttpServer {
 public:
  HttpServer(HttpServerConfig config, HttpHandler& handler);
  ~HttpServer();

  // Binds, listens and starts the I/O threads.
  Status Start();
  // The bound port (after Start()).
  uint16_t port() const;
  // Stops accepting, lets requests already being handled finish (up to `drain`), then
  // stops the I/O threads. Idempotent.
  void Stop(std::chrono::milliseconds drain);
  // Requests read and not yet answered.
  int InFlight() const;
  int Connections() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_HTTP_HTTP_SERVER_H_
