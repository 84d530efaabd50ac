#include "email_sender.h"

#include <curl/curl.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <ctime>
#include <mutex>

namespace tokenmeter {
namespace {

std::string Field(const rapidjson::Value& v, const char* k) {
  auto it = v.FindMember(k);
  return it != v.MemberEnd() && it->value.IsString() ? std::string(it->value.GetString()) : std::string();
}

// Header values must not carry line breaks (header injection).
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return s;
}

std::string MailDate(TimePoint now) {
  std::time_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

struct Upload {
  const std::string& text;
  size_t pos = 0;
};

size_t ReadUpload(char* out, size_t size, size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  size_t take = std::min(size * n, u->text.size() - u->pos);
  std::copy_n(u->text.data() + u->pos, take, out);
  u->pos += take;
  return take;
}

}  // namespace

Result<std::string> ComposeAlertMail(const EmailSinkConfig& config, const std::string& alert_id,
                                     const std::string& alert_json, TimePoint now) {
  rapidjson::Document doc;
  doc.Parse(alert_json.data(), alert_json.size());
  if (doc.HasParseError() || !doc.IsObject()) return InvalidArgument("alert body is not a JSON object");
  std::string type = Field(doc, "type"), status = Field(doc, "status"), ws = Field(doc, "workspace");
  std::string scope;
  if (auto it = doc.FindMember("scope"); it != doc.MemberEnd() && it->value.IsObject()) {
    for (const auto& m : it->value.GetObject()) {
      if (!m.value.IsString()) continue;
      scope += (scope.empty() ? "" : ", ") + std::string(m.name.GetString()) + "=" + m.value.GetString();
    }
  }
  std::string window;
  if (auto it = doc.FindMember("window"); it != doc.MemberEnd() && it->value.IsObject()) {
    window = Field(it->value, "start") + " to " + Field(it->value, "end");
  }
  std::string to;
  for (const std::string& r : config.to) to += (to.empty() ? "" : ", ") + r;
  std::string subject = "[tokenmeter] " + ws + ": " + type + (status == "firing" ? "" : " " + status) +
                        (scope.empty() ? "" : " (" + scope + ")");
  std::string m;
  m += "From: " + OneLine(config.from) + "\r\n";
  m += "To: " + OneLine(to) + "\r\n";
  m += "Subject: " + OneLine(subject) + "\r\n";
  m += "Message-ID: <" + OneLine(alert_id) + "@tokenmeter>\r\n";
  m += "Date: " + MailDate(now) + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n";
  m += "X-Tokenmeter-Alert-Id: " + OneLine(alert_id) + "\r\n";
  m += "\r\n";
  std::string unit = Field(doc, "unit");
  std::string body = OneLine(Field(doc, "message")) + "\r\n\r\n";
  body += "Workspace: " + ws + "\r\n";
  body += "Alert: " + type + " (" + Field(doc, "severity") + ", " + status + ")\r\n";
  if (!scope.empty()) body += "Scope: " + scope + "\r\n";
  body += "Observed: " + Field(doc, "observed") + " " + unit + "\r\n";
  if (std::string t = Field(doc, "threshold"); !t.empty()) body += "Threshold: " + t + " " + unit + "\r\n";
  if (std::string b = Field(doc, "baseline"); !b.empty()) body += "Baseline: " + b + " " + unit + "\r\n";
  body += "Window: " + window + "\r\n";
  body += "Decided at: " + Field(doc, "at") + "\r\n";
  body += "Alert id: " + alert_id + "\r\n\r\n";
  body += "Where to look: GET /v1/alerts and GET /v1/diagnostics/workspace-status with a read key;\r\n";
  body += "spend by feature: GET /v1/dashboard/top-endpoints?range=24h.\r\n";
  return m + body;
}

Result<std::unique_ptr<EmailSender>> EmailSender::Create(const EmailSinkConfig& config,
                                                         std::chrono::milliseconds timeout) {
  static std::once_flag init;
  static CURLcode init_result = CURLE_OK;
  std::call_once(init, [] { init_result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (init_result != CURLE_OK) return Internal("libcurl initialisation failed");
  return std::unique_ptr<EmailSender>(new EmailSender(config, timeout));
}

AttemptOutcome EmailSender::Send(const Delivery& d, TimePoint now) {
  AttemptOutcome out;
  Result<std::string> mail = ComposeAlertMail(config_, d.alert_id, d.alert_json, now);
  if (!mail.ok()) {
    out.kind = AttemptOutcome::Kind::kPermanent;
    out.detail = mail.status().message();
    return out;
  }
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    out.detail = "cannot create a libcurl handle";
    return out;
  }
  CURL* c = curl.get();
  curl_slist* rcpt = nullptr;
  for (const std::string& r : config_.to) rcpt = curl_slist_append(rcpt, ("<" + r + ">").c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> rcpt_owner(rcpt, curl_slist_free_all);
  Upload upload{*mail};
  std::string from = "<" + config_.from + ">";
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, config_.smtp_url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  // Required: a server that does not offer STARTTLS fails with CURLE_USE_SSL_FAILED.
  curl_easy_setopt(c, CURLOPT_USE_SSL,
                   config_.starttls == StartTls::kRequired ? static_cast<long>(CURLUSESSL_ALL)
                                                           : static_cast<long>(CURLUSESSL_NONE));
  if (!config_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, config_.ca_file.c_str());
  if (!config_.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, config_.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, config_.password.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (rc == CURLE_OK) {
    out.kind = AttemptOutcome::Kind::kDelivered;
    out.detail = "SMTP " + std::to_string(code);
    return out;
  }
  out.detail = std::string(curl_easy_strerror(rc)) + (error[0] ? std::string(": ") + error : "");
  if (code > 0) out.detail += " (SMTP " + std::to_string(code) + ")";
  if (rc == CURLE_USE_SSL_FAILED) {
    out.detail = "the server does not offer STARTTLS, which this sink requires; nothing was sent in plaintext";
  } else if (code >= 500 && code < 600) {
    out.kind = AttemptOutcome::Kind::kPermanent;
  }
  return out;
}

}  // namespace tokenmeter
