// The admin API beside a real edge on one HTTP server (as serve routes them), its changes on a real settings log
// (EmbeddedLog in a temporary directory) followed as `serve` follows it: a key made here
// ingests as soon as the 201 is sent; a revoked one is refused at once; a rotated key's old
// secret lasts its overlap; no answer holds a secret except the one that makes it.
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <rapidjson/document.h>

#include <filesystem>

#include "http_client.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/bus/embedded_log.h"
#include "tokenmeter/edge/edge_service.h"
#include "tokenmeter/http/path_router.h"
#include "tokenmeter/settings/admin_api.h"
#include "tokenmeter/settings/settings_follower.h"

namespace tokenmeter {
namespace {

using namespace std::chrono_literals;
using testing::Reply;

const TimePoint kNow = *ParseRfc3339("2026-02-07T12:00:00.000Z");
constexpr const char* kEvent =
    R"({"events":[{"requestId":"r1","provider":"openai","model":"gpt-4o-mini","inputTokens":10,"outputTokens":5}]})";

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("admin_api_test_" + std::to_string(getpid()) + "_" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    owner_ = *CreateApiKey("live", "acme", Role::kOwner);
    owner_.record.from_config = true;
    admin_ = *CreateApiKey("live", "acme", Role::kAdmin);
    admin_.record.from_config = true;
    member_ = *CreateApiKey("live", "acme", Role::kMember);
    member_.record.from_config = true;
    ingest_ = *CreateApiKey("live", "acme", Role::kIngest);
    ingest_.record.from_config = true;
    config_keys_ = {owner_.record, admin_.record, member_.record, ingest_.record};
    Start();
  }
  void Start() {
    events_ = std::move(*EmbeddedLog::Open({dir_.string(), "events.log"}));
    EmbeddedLogConfig sc{dir_.string(), "settings.log"};
    sc.keep_unapplied = false;
    settings_log_ = std::move(*EmbeddedLog::Open(sc));
    LiveSettings::Declared declared;
    declared.keys = config_keys_;
    declared.projects = {{"acme", {"shop"}}};
    settings_ = std::make_unique<LiveSettings>(std::move(declared), ring_);
    follower_ = std::make_unique<SettingsFollower>(
        std::move(*settings_log_->Subscribe([](int) { return Result<std::optional<int64_t>>(std::nullopt); })),
        *settings_);
    follower_->Start();
    ASSERT_TRUE(follower_->WaitCaughtUp(5s));
    EdgeConfig config;
    WorkspaceConfig strict;
    strict.id = "acme";
    strict.projects = {"shop"};
    strict.strict_projects = true;
    config.workspaces = {strict};
    edge_ = std::make_unique<EdgeService>(config, ring_, normalizer_, *events_, clock_, registry_);
    edge_->AttachProjects([this](const std::string& ws) -> std::shared_ptr<const std::unordered_set<std::string>> {
      auto all = settings_->Slugs();
      auto it = all->find(ws);
      return it == all->end() ? nullptr : std::shared_ptr<const std::unordered_set<std::string>>(all, &it->second);
    });
    admin_api_ = std::make_unique<AdminApi>(*settings_, ring_, *settings_log_, clock_);
    router_ = std::make_unique<PathRouter>(std::vector<PathRouter::Route>{{AdminApi::kPrefix, admin_api_.get()}}, *edge_);
    HttpServerConfig hc;
    hc.port = 0;
    server_ = std::make_unique<HttpServer>(hc, *router_);
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
  }
  void Stop() {
    server_->Stop(2s);
    follower_->Stop();
    server_.reset();
    router_.reset();
    admin_api_.reset();
    edge_.reset();
    follower_.reset();
    events_.reset();
    settings_log_.reset();
  }
  void TearDown() override {
    Stop();
    std::filesystem::remove_all(dir_);
  }

  Reply Call(const std::string& method, const std::string& target, const std::string& key, const std::string& body = "") {
    return testing::Request(port_, method, target, body, {{"X-API-Key", key}, {"Content-Type", "application/json"}});
  }
  int Ingest(const std::string& key) { return testing::PostJson(port_, "/v1/ingest", key, kEvent).status; }
  static std::string Member(const std::string& body, const char* name) {
    rapidjson::Document d;
    d.Parse(body.c_str());
    if (!d.IsObject() || !d.HasMember(name) || !d[name].IsString()) return "";
    return d[name].GetString();
  }
  static std::string KeyId(const std::string& body) {
    rapidjson::Document d;
    d.Parse(body.c_str());
    return d.IsObject() && d.HasMember("key") ? d["key"]["id"].GetString() : "";
  }

  std::filesystem::path dir_;
  NewKey owner_, admin_, member_, ingest_;
  std::vector<KeyRecord> config_keys_;
  KeyRing ring_;
  Normalizer normalizer_ = *Normalizer::FromEmbeddedTable();
  FakeClock clock_{kNow};
  prometheus::Registry registry_;
  std::unique_ptr<EmbeddedLog> events_, settings_log_;
  std::unique_ptr<LiveSettings> settings_;
  std::unique_ptr<SettingsFollower> follower_;
  std::unique_ptr<EdgeService> edge_;
  std::unique_ptr<AdminApi> admin_api_;
  std::unique_ptr<PathRouter> router_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
};

TEST_F(AdminApiTest, ACreatedKeyIngestsAsSoonAsItIsAnsweredAndIsShownOnce) {
  Reply r = Call("POST", "/v1/admin/keys", admin_.key,
                 R"({"role":"ingest","name":"checkout","project":"shop","environment":"staging","eventsPerSecond":50})");
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string secret = Member(r.body, "secret"), id = KeyId(r.body);
  ASSERT_EQ(secret.substr(0, 8), "tm_live_");
  EXPECT_EQ(secret.substr(8, 12), id);
  EXPECT_EQ(Ingest(secret), 202);
  EXPECT_NE(r.body.find(R"("applied":true)"), std::string::npos);
  EXPECT_NE(r.body.find(R"("name":"checkout","role":"ingest","project":"shop","environment":"staging","owner":")" + id +
                        R"(","source":"api","createdAt":"2026-02-07T12:00:00.000Z","revoked":false,"previousSecretValidUntil":null,"lastUsedAt":null,"eventsPerSecond":50,"burstEvents":0})"),
            std::string::npos)
      << r.body;
  // The list: every key, none with its secret or hash.
  Reply list = Call("GET", "/v1/admin/keys", member_.key);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(secret.substr(21)), std::string::npos);
  for (const KeyRecord* k : {&owner_.record, &admin_.record, &member_.record, &ingest_.record}) {
    EXPECT_NE(list.body.find("\"id\":\"" + k->id + "\""), std::string::npos);
    EXPECT_EQ(list.body.find(k->sha256), std::string::npos);
  }
  EXPECT_EQ(list.body.find(ring_.Find(id)->sha256), std::string::npos);
  // It ingested once: the list says when (the edge's clock), to the second.
  const size_t listed = list.body.find("\"id\":\"" + id + "\"");
  ASSERT_NE(listed, std::string::npos);
  EXPECT_EQ(list.body.substr(list.body.find("\"lastUsedAt\":", listed), 40),
            R"("lastUsedAt":"2026-02-07T12:00:00.000Z",)")
      << list.body;
  // And a restart reads it back from the log.
  Stop();
  Start();
  EXPECT_EQ(Ingest(secret), 202);
}

TEST_F(AdminApiTest, RevokedAtOnceRotatedWithAnOverlap) {
  const std::string id = KeyId(Call("POST", "/v1/admin/keys", owner_.key, R"({"role":"ingest"})").body);
  const std::string old_secret = Member(Call("GET", "/v1/admin/keys", owner_.key).body, "secret");
  EXPECT_EQ(old_secret, "");  // never listed
  Reply created = Call("POST", "/v1/admin/keys", owner_.key, R"({"role":"ingest","env":"test"})");
  const std::string test_secret = Member(created.body, "secret"), test_id = KeyId(created.body);
  EXPECT_EQ(test_secret.substr(0, 8), "tm_test_");
  Reply rotated = Call("POST", "/v1/admin/keys/" + test_id + "/rotate", admin_.key, R"({"overlapSeconds":60})");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string new_secret = Member(rotated.body, "secret");
  EXPECT_EQ(new_secret.substr(0, 21), test_secret.substr(0, 21));
  EXPECT_NE(rotated.body.find(R"("previousSecretValidUntil":"2026-02-07T12:01:00.000Z")"), std::string::npos);
  EXPECT_EQ(Ingest(new_secret), 202);
  EXPECT_EQ(Ingest(test_secret), 202);
  clock_.Advance(60s);
  EXPECT_EQ(Ingest(test_secret), 401);
  EXPECT_EQ(Ingest(new_secret), 202);
  Reply revoked = Call("DELETE", "/v1/admin/keys/" + test_id, admin_.key);
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  EXPECT_NE(revoked.body.find(R"("revoked":true)"), std::string::npos);
  EXPECT_EQ(revoked.body.find("secret\""), std::string::npos);
  EXPECT_EQ(Ingest(new_secret), 401);
  EXPECT_EQ(Call("DELETE", "/v1/admin/keys/" + test_id, admin_.key).body,
            R"({"ok":false,"reason":"conflict","message":"key )" + test_id + R"( is revoked"})");
  // The audit trail, newest first, says who did what.
  Reply audit = Call("GET", "/v1/admin/audit?limit=3", owner_.key);
  ASSERT_EQ(audit.status, 200);
  const size_t revoke = audit.body.find(R"("by":")" + admin_.record.id + R"(","action":"key.revoke","target":")" + test_id);
  const size_t rotate = audit.body.find(R"("by":")" + admin_.record.id + R"(","action":"key.rotate","target":")" + test_id);
  const size_t create = audit.body.find(R"("by":")" + owner_.record.id + R"(","action":"key.create","target":")" + test_id);
  EXPECT_TRUE(revoke < rotate && rotate < create && create != std::string::npos) << audit.body;
  EXPECT_EQ(audit.body.find(id), std::string::npos);  // limit=3: the first key's creation is older
}

TEST_F(AdminApiTest, ANewProjectIsAcceptedInStrictModeAtOnce) {
  const std::string chat = R"({"events":[{"requestId":"p1","provider":"openai","model":"gpt-4o-mini","inputTokens":10,"outputTokens":5,"project":"chat"}]})";
  Reply refused = testing::PostJson(port_, "/v1/ingest", ingest_.key, chat);
  EXPECT_NE(refused.body.find(R"("rejected":1,"errors":[{"index":0,"field":"project","message":"unknown project \"chat\""}])"),
            std::string::npos)
      << refused.body;
  EXPECT_EQ(Call("POST", "/v1/admin/projects", member_.key, R"({"slug":"chat"})").body,
            R"({"ok":false,"reason":"forbidden","message":"a member key cannot manage projects; managing projects needs an owner or admin key"})");
  Reply made = Call("POST", "/v1/admin/projects", admin_.key, R"({"slug":"chat","name":"Support chat","environments":["prod","staging"]})");
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_NE(made.body.find(R"("project":{"slug":"chat","name":"Support chat","environments":["prod","staging"],"source":"api","createdAt":"2026-02-07T12:00:00.000Z"}})"),
            std::string::npos)
      << made.body;
  Reply accepted = testing::PostJson(port_, "/v1/ingest", ingest_.key, chat);
  EXPECT_NE(accepted.body.find(R"("accepted":1,"rejected":0,"errors":[],"warnings":[])"), std::string::npos) << accepted.body;
  EXPECT_EQ(Call("POST", "/v1/admin/projects", admin_.key, R"({"slug":"chat"})").body,
            R"({"ok":false,"reason":"conflict","message":"project chat exists"})");
  Reply renamed = Call("PATCH", "/v1/admin/projects/chat", admin_.key, R"({"name":"Chat","environments":["prod"]})");
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(Call("GET", "/v1/admin/projects", member_.key).body,
            R"({"ok":true,"workspace":"acme","projects":[{"slug":"shop","name":"shop","environments":[],"source":"config","createdAt":null},)"
            R"({"slug":"chat","name":"Chat","environments":["prod"],"source":"api","createdAt":"2026-02-07T12:00:00.000Z"}]})");
  EXPECT_EQ(Call("PATCH", "/v1/admin/projects/shop", admin_.key, R"({"name":"Shop"})").body,
            R"({"ok":false,"reason":"conflict","message":"project shop is declared in the config file; change it there"})");
  EXPECT_EQ(Call("PATCH", "/v1/admin/projects/chat", admin_.key, R"({"slug":"other"})").body,
            R"({"ok":false,"reason":"bad_request","message":"unknown member \"slug\""})");
}

TEST_F(AdminApiTest, BadRequestsGetClearErrors) {
  auto body = [&](const std::string& method, const std::string& target, const std::string& b = "") {
    Reply r = Call(method, target, owner_.key, b);
    return std::to_string(r.status) + " " + r.body;
  };
  EXPECT_EQ(body("POST", "/v1/admin/keys", R"({"role":"ingest","colour":"red"})"),
            R"(400 {"ok":false,"reason":"bad_request","message":"unknown member \"colour\""})");
  EXPECT_EQ(body("POST", "/v1/admin/keys", R"({"role":"root"})"),
            R"(400 {"ok":false,"reason":"bad_request","message":"role must be owner, admin, member or ingest"})");
  EXPECT_EQ(body("POST", "/v1/admin/keys", R"({"role":"ingest","env":"prod"})"),
            R"(400 {"ok":false,"reason":"bad_request","message":"env must be live or test"})");
  EXPECT_EQ(body("POST", "/v1/admin/keys", R"({"role":"ingest","eventsPerSecond":0})"),
            R"(400 {"ok":false,"reason":"bad_request","message":"eventsPerSecond must be a positive number"})");
  EXPECT_EQ(body("POST", "/v1/admin/keys", "[1]"),
            R"(400 {"ok":false,"reason":"bad_request","message":"the body must be a JSON object"})");
  const std::string id = KeyId(Call("POST", "/v1/admin/keys", owner_.key, R"({"role":"ingest"})").body);
  EXPECT_EQ(body("POST", "/v1/admin/keys/" + id + "/rotate", R"({"overlapSeconds":604801})"),
            R"(400 {"ok":false,"reason":"bad_request","message":"overlapSeconds must be an integer in [0, 604800]"})");
  EXPECT_EQ(body("DELETE", "/v1/admin/keys/" + owner_.record.id),
            R"(409 {"ok":false,"reason":"conflict","message":"key )" + owner_.record.id +
                R"( is declared in the config file; change it there"})");
  EXPECT_EQ(body("DELETE", "/v1/admin/keys/AAAAAAAAAAAA"),
            R"(404 {"ok":false,"reason":"not_found","message":"no key AAAAAAAAAAAA in this workspace"})");
  EXPECT_EQ(body("GET", "/v1/admin/keys/" + id + "/rotate"),
            R"(405 {"ok":false,"reason":"method_not_allowed","message":"a rotation is POST"})");
  EXPECT_EQ(body("GET", "/v1/admin/audit?limit=0"),
            R"(400 {"ok":false,"reason":"bad_request","message":"limit must be an integer in [1, 1000]"})");
  EXPECT_EQ(body("GET", "/v1/admin/nothing"), R"(404 {"ok":false,"reason":"not_found","message":"no such endpoint"})");
  EXPECT_EQ(Call("GET", "/v1/admin/keys", "tm_live_nope").status, 401);
}

}  // namespace
}  // namespace tokenmeter
