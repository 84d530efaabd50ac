// The admin API from the command line: `tokenmeter config export` and `tokenmeter
// workspace create`, one HTTP request each to a running serve, edge or processor.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/status.h"

namespace tokenmeter {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

constexpr const char* kConfigUsage =
    "Usage: tokenmeter config export [--url URL] [--key KEY]\n"
    "\n"
    "Prints the live settings of the key's workspace as config-file YAML: its projects, the\n"
    "budgets made through the admin API and every key (by its SHA-256), the config file's\n"
    "and the API's. Needs an owner key. URL: a running serve, edge or processor\n"
    "(default $TOKENMETER_URL, else http://127.0.0.1:8080); KEY: default $TOKENMETER_KEY.\n";

constexpr const char* kWorkspaceUsage =
    "Usage: tokenmeter workspace create --workspace W [--name N] [--url URL] [--key KEY]\n"
    "\n"
    "Creates workspace W with its first owner key, live at once on every process, and\n"
    "prints the key once (first line). KEY must be an owner key from the config file.\n"
    "URL and KEY default as for `tokenmeter config export`.\n";

struct Reply {
  int status = 0;
  std::string body;
};

// One request on a fresh connection to an http://host:port URL.
Result<Reply> Call(const std::string& url, const std::string& method, const std::string& path, const std::string& key,
                   const std::string& body) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) return InvalidArgument("the URL must start with http:// (" + url + ")");
  std::string hostport = url.substr(kScheme.size());
  if (const size_t slash = hostport.find('/'); slash != std::string::npos) hostport.resize(slash);
  const size_t colon = hostport.rfind(':');
  const std::string host = colon == std::string::npos ? hostport : hostport.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  try {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(resolver.resolve(host, port));
    http::request<http::string_body> req{method == "POST" ? http::verb::post : http::verb::get, path, 11};
    req.set(http::field::host, host);
    req.set("X-API-Key", key);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    beast::error_code ec;
    stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    return Reply{static_cast<int>(res.result_int()), res.body()};
  } catch (const std::exception& e) {
    return Unavailable("cannot reach " + url + ": " + e.what());
  }
}

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// Parses --name value pairs into `out` (known names only); 2 and a message on a bad one.
int Options(const std::vector<std::string>& args, size_t first, const char* usage,
            std::vector<std::pair<std::string, std::string*>> known) {
  for (size_t i = first; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::fputs(usage, stdout);
      return 0;
    }
    auto it = std::find_if(known.begin(), known.end(), [&](const auto& k) { return k.first == args[i]; });
    if (it == known.end() || i + 1 >= args.size()) {
      std::fprintf(stderr, "tokenmeter: %s %s\n%s", args[i].c_str(), it == known.end() ? "is not an option here" : "needs a value", usage);
      return 2;
    }
    *it->second = args[++i];
  }
  return -1;
}

// The answer's "message", for an error line.
std::string MessageOf(const std::string& body) {
  const size_t at = body.find("\"message\":\"");
  if (at == std::string::npos) return body;
  const size_t end = body.find('"', at + 11);
  return body.substr(at + 11, end == std::string::npos ? std::string::npos : end - at - 11);
}

// A string member of a flat JSON answer ("" if absent).
std::string Member(const std::string& body, const std::string& name) {
  const std::string tag = "\"" + name + "\":\"";
  const size_t at = body.find(tag);
  if (at == std::string::npos) return "";
  return body.substr(at + tag.size(), body.find('"', at + tag.size()) - at - tag.size());
}

}  // namespace

int RunConfig(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "export") {
    std::fputs(kConfigUsage, args.empty() || args[0] != "--help" ? stderr : stdout);
    return args.empty() || args[0] != "--help" ? 2 : 0;
  }
  std::string url = EnvOr("TOKENMETER_URL", "http://127.0.0.1:8080"), key = EnvOr("TOKENMETER_KEY", "");
  if (int rc = Options(args, 1, kConfigUsage, {{"--url", &url}, {"--key", &key}}); rc >= 0) return rc;
  Result<Reply> r = Call(url, "GET", "/v1/admin/config", key, "");
  if (!r.ok() || r->status != 200) {
    std::fprintf(stderr, "tokenmeter config export: %s\n",
                 r.ok() ? (std::to_string(r->status) + " " + MessageOf(r->body)).c_str() : r.status().message().c_str());
    return 1;
  }
  std::fputs(r->body.c_str(), stdout);
  return 0;
}

int RunWorkspace(const std::vector<std::string>& args) {
  if (args.empty() || args[0] != "create") {
    std::fputs(kWorkspaceUsage, args.empty() || args[0] != "--help" ? stderr : stdout);
    return args.empty() || args[0] != "--help" ? 2 : 0;
  }
  std::string url = EnvOr("TOKENMETER_URL", "http://127.0.0.1:8080"), key = EnvOr("TOKENMETER_KEY", "");
  std::string workspace, name;
  if (int rc = Options(args, 1, kWorkspaceUsage,
                       {{"--url", &url}, {"--key", &key}, {"--workspace", &workspace}, {"--name", &name}});
      rc >= 0) {
    return rc;
  }
  if (workspace.empty()) {
    std::fprintf(stderr, "tokenmeter workspace create: --workspace is required\n%s", kWorkspaceUsage);
    return 2;
  }
  std::string body = "{\"id\":";
  AppendJsonString(body, workspace);
  if (!name.empty()) {
    body += ",\"name\":";
    AppendJsonString(body, name);
  }
  body += "}";
  Result<Reply> r = Call(url, "POST", "/v1/admin/workspaces", key, body);
  if (!r.ok() || (r->status != 201 && r->status != 202)) {
    std::fprintf(stderr, "tokenmeter workspace create: %s\n",
                 r.ok() ? (std::to_string(r->status) + " " + MessageOf(r->body)).c_str() : r.status().message().c_str());
    return 1;
  }
  std::printf("%s\n", Member(r->body, "secret").c_str());
  std::printf("# the first owner key of workspace %s (shown once; only its SHA-256 is kept)%s\n", workspace.c_str(),
              r->status == 202 ? "; not yet applied everywhere: it works within seconds" : "");
  return 0;
}

}  // namespace tokenmeter
