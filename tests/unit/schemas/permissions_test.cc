// The permission table, cell by cell, and its refusals' wording.
#include "tokenmeter/auth/permissions.h"

#include <gtest/gtest.h>

namespace tokenmeter {
namespace {

TEST(PermissionsTest, EveryRoleAndActionAsTheReadmeTableSays) {
  // Rows in Action order; columns owner, admin, member, ingest.
  const std::vector<std::pair<Action, std::string>> table = {
      {Action::kIngest, "---x"},         {Action::kCleanMine, "xxxx"},  {Action::kCleanWorkspace, "xx--"},
      {Action::kRead, "xxx-"},           {Action::kReplayAlert, "xx--"}, {Action::kListKeys, "xxx-"},
      {Action::kManageKeys, "xx--"},     {Action::kManageOwnerKeys, "x---"}, {Action::kReadAudit, "xx--"},
      {Action::kManageProjects, "xx--"}, {Action::kManageBudgets, "xx--"}, {Action::kExportConfig, "x---"},
      {Action::kCreateWorkspace, "x---"}, {Action::kManageAlerting, "xx--"}, {Action::kManagePricing, "xx--"},
  };
  const Role roles[] = {Role::kOwner, Role::kAdmin, Role::kMember, Role::kIngest};
  for (const auto& [action, cells] : table) {
    for (size_t r = 0; r < 4; ++r) {
      EXPECT_EQ(Allowed(roles[r], action), cells[r] == 'x') << ActionName(action) << " for " << RoleName(roles[r]);
    }
  }
}

TEST(PermissionsTest, ARefusalSaysWhatTheRoleCannotDoAndWhoCan) {
  EXPECT_EQ(ForbiddenMessage(Role::kOwner, Action::kIngest), "an owner key cannot ingest; use an ingest key");
  EXPECT_EQ(ForbiddenMessage(Role::kIngest, Action::kRead), "an ingest key cannot read; use an owner, admin or member key");
  EXPECT_EQ(ForbiddenMessage(Role::kMember, Action::kManageKeys),
            "a member key cannot manage keys; managing keys needs an owner or admin key");
  EXPECT_EQ(ForbiddenMessage(Role::kAdmin, Action::kManageOwnerKeys),
            "an admin key cannot manage owner keys; only an owner key creates, rotates or revokes owner keys");
}

}  // namespace
}  // namespace tokenmeter
