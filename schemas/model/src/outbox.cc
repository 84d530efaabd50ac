#include "tokenmeter/model/outbox.h"

#include <charconv>

#include "tokenmeter/base/enum_names.h"

namespace tokenmeter {
namespace {

constexpr EnumNames<DeliveryState, 3> kDeliveryStates({"pending", "delivered", "dead"});

}  // namespace

std::string_view DeliveryStateName(DeliveryState s) { return kDeliveryStates.Name(s); }

std::string Delivery::Encode() const {
  std::string error;
  for (char c : last_error) error.push_back(c == '\n' || c == '\r' ? ' ' : c);
  std::string out = std::to_string(static_cast<int>(state)) + " " + std::to_string(attempts) + " " +
                    std::to_string(created_ms) + " " + std::to_string(decision_seq) + " " +
                    std::to_string(queued_ms) + " " + std::to_string(first_attempt_ms) + " " +
                    std::to_string(next_attempt_ms) + " " + std::to_string(done_ms) + " " + error +
                    "\n" + alert_json;
  return out;
}

std::optional<Delivery> Delivery::Decode(std::string_view sink, std::string_view alert_id,
                                         std::string_view bytes) {
  Delivery d;
  d.sink = sink;
  d.alert_id = alert_id;
  size_t nl = bytes.find('\n');
  if (nl == std::string_view::npos) return std::nullopt;
  std::string_view head = bytes.substr(0, nl);
  d.alert_json = bytes.substr(nl + 1);
  int64_t nums[8];
  const char* p = head.data();
  const char* end = head.data() + head.size();
  for (int64_t& n : nums) {
    auto [next, ec] = std::from_chars(p, end, n);
    if (ec != std::errc() || next == end || *next != ' ') return std::nullopt;
    p = next + 1;
  }
  if (nums[0] < 0 || nums[0] > 2 || nums[1] < 0) return std::nullopt;
  d.state = static_cast<DeliveryState>(nums[0]);
  d.attempts = static_cast<uint32_t>(nums[1]);
  d.created_ms = nums[2];
  d.decision_seq = nums[3];
  d.queued_ms = nums[4];
  d.first_attempt_ms = nums[5];
  d.next_attempt_ms = nums[6];
  d.done_ms = nums[7];
  d.last_error.assign(p, end);
  return d;
}

}  // namespace tokenmeter
