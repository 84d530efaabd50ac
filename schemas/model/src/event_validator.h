// Stage 3 of the event parser: one raw event validated against the field table into a
// UsageEvent, each broken rule an error naming the field. Internal to tm_model
// (event_parser.cc). One object per parse; any thread.
#ifndef TOKENMETER_MODEL_SRC_EVENT_VALIDATOR_H_
#define TOKENMETER_MODEL_SRC_EVENT_VALIDATOR_H_

#include <array>
#include <span>
#include <string>
#include <vector>

#include "event_fields.h"
#include "raw_json.h"
#include "tokenmeter/base/json_text.h"
#include "tokenmeter/base/rfc3339.h"
#include "tokenmeter/model/event_parser.h"

namespace tokenmeter {

// Validates one raw event; appends errors; fills `out` and returns true when valid.
class EventValidator {
 public:
  EventValidator(const IngestLimits& limits, const Normalizer& normalizer, Dialect dialect,
                 const IngestContext* ctx)
      : limits_(limits), normalizer_(normalizer), dialect_(dialect), ctx_(ctx) {}

  bool Validate(const RawEvent& raw, std::span<const RawMember> members, size_t index,
                UsageEvent& out, std::vector<FieldError>& errors) {
    index_ = index;
    errors_ = &errors;
    size_t errors_before = errors.size();
    if (raw.structural_error) {
      AddError("", raw.structural_error);
      return false;
    }
    std::array<std::array<const RawMember*, 2>, kFieldCount> slots{};
    std::vector<std::string_view> unknown;
    const NameTable& names = Names(dialect_);
    for (const RawMember& m : members) {
      const NameRef* ref = names.Find(m.key);
      if (ref == nullptr) {
        for (std::string_view u : unknown) {
          if (u == m.key) AddError(std::string(m.key), "duplicate key");
        }
        unknown.push_back(m.key);
        continue;
      }
      auto& slot = slots[ref->field][ref->variant];
      if (slot != nullptr) {
        AddError(std::string(m.key), "duplicate key");
        continue;
      }
      slot = &m;
    }

    std::array<const RawMember*, kFieldCount> value{};
    for (size_t f = 0; f < kFieldCount; ++f) {
      const RawMember* a = slots[f][0];
      const RawMember* b = slots[f][1];
      if (a && a->type == RawType::kNull) a = nullptr;
      if (b && b->type == RawType::kNull) b = nullptr;
      if (a && b && (a->type != b->type || a->text != b->text)) {
        AddError(std::string(b->key), "conflicts with " + std::string(a->key));
        continue;
      }
      value[f] = a ? a : b;
      bool required = dialect_ == Dialect::kIngest ? kFields[f].required_ingest
                                                   : kFields[f].required_canonical;
      if (!value[f] && required) {
        AddError(MissingName(kFields[f], dialect_), MissingMessage(kFields[f], dialect_));
      }
    }

    Fill(value, out);
    return errors.size() == errors_before;
  }

 private:
  void AddError(std::string field, std::string message) {
    errors_->push_back({index_, std::move(field), std::move(message)});
  }

  bool Text(const RawMember* m, std::string& out, size_t max_bytes) {
    if (!TextView(m, max_bytes)) return false;
    if (m) out.assign(m->text);
    return true;
  }

  // Checks what Text would copy, without copying it.
  bool TextView(const RawMember* m, size_t max_bytes) {
    if (!m) return true;
    if (m->type != RawType::kString) {
      AddError(std::string(m->key), "must be a string");
      return false;
    }
    if (std::string problem = TextProblem(m->text, max_bytes); !problem.empty()) {
      AddError(std::string(m->key), std::move(problem));
      return false;
    }
    return true;
  }

  bool RequestId(const RawMember* m, std::string& out) {
    if (!m) return false;
    if (m->type != RawType::kString) {
      AddError(std::string(m->key), "must be a string");
      return false;
    }
    if (std::string problem = RequestIdProblem(m->text, limits_.max_request_id_bytes);
        !problem.empty()) {
      AddError(std::string(m->key), std::move(problem));
      return false;
    }
    out.assign(m->text);
    return true;
  }

  std::optional<uint64_t> Count(const RawMember* m, uint64_t max) {
    if (!m) return std::nullopt;
    std::optional<uint64_t> v;
    if (m->type == RawType::kNumber) v = ParseUint(m->text);
    if (!v) {
      AddError(std::string(m->key), "must be a non-negative integer");
      return std::nullopt;
    }
    if (*v > max) {
      AddError(std::string(m->key), "must be at most " + std::to_string(max));
      return std::nullopt;
    }
    return v;
  }

  template <typename E>
  std::optional<E> Enum(const RawMember* m, std::optional<E> (*parse)(std::string_view),
                        const char* allowed) {
    if (!m) return std::nullopt;
    std::optional<E> v;
    if (m->type == RawType::kString) {
      std::string lower(m->text);
      for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      v = parse(lower);
    }
    if (!v) AddError(std::string(m->key), std::string("must be one of ") + allowed);
    return v;
  }

  std::optional<TimePoint> Timestamp(const RawMember* m) {
    if (!m) return std::nullopt;
    std::optional<TimePoint> t;
    if (m->type == RawType::kString) t = ParseRfc3339(m->text);
    if (!t) AddError(std::string(m->key), "must be an RFC 3339 timestamp");
    return t;
  }

  void Fill(const std::array<const RawMember*, kFieldCount>& v, UsageEvent& out) {
    const size_t max_text = limits_.max_string_bytes;
    RequestId(v[kFRequestId], out.request_id);
    if (TextView(v[kFProvider], 64) && v[kFProvider]) {
      normalizer_.Provider(v[kFProvider]->text, out.provider);
      if (out.provider.empty()) AddError(std::string(v[kFProvider]->key), "must not be empty");
    }
    if (Text(v[kFModel], out.model_raw, max_text) && v[kFModel]) {
      normalizer_.Model(out.provider, out.model_raw, out.model);
      if (out.model.empty()) AddError(std::string(v[kFModel]->key), "must not be empty");
    }
    Text(v[kFEndpointTag], out.endpoint_tag, max_text);
    Text(v[kFPromptVersion], out.prompt_version, max_text);
    Text(v[kFEnvironment], out.environment, max_text);
    Text(v[kFUserId], out.user_id, max_text);
    Text(v[kFTenantId], out.tenant_id, max_text);
    if (auto m = Enum<DataMode>(v[kFDataMode], ParseDataMode, "real, test, demo")) {
      out.data_mode = *m;
    }
    out.input_tokens = Count(v[kFInput], limits_.max_tokens).value_or(0);
    out.output_tokens = Count(v[kFOutput], limits_.max_tokens).value_or(0);
    out.cached_tokens = Count(v[kFCached], limits_.max_tokens).value_or(0);
    out.cache_write_tokens = Count(v[kFCacheWrite], limits_.max_tokens).value_or(0);
    out.cache_write_1h_tokens = Count(v[kFCacheWrite1h], limits_.max_tokens).value_or(0);
    out.reasoning_tokens = Count(v[kFReasoning], limits_.max_tokens).value_or(0);
    out.total_tokens = Count(v[kFTotal], limits_.max_tokens);
    if (auto l = Count(v[kFLatency], limits_.max_latency_ms)) {
      out.latency_ms = static_cast<uint32_t>(*l);
    }
    out.status = Enum<CallStatus>(v[kFStatus], ParseCallStatus,
                                  "success, error, timeout, cancelled");
    if (const RawMember* m = v[kFCost]) {
      if (m->type == RawType::kNumber || m->type == RawType::kString) {
        out.estimated_cost = ParseDecimalUsd(m->text, limits_.max_estimated_cost_usd);
      }
      if (!out.estimated_cost) {
        AddError(std::string(m->key), "must be a non-negative decimal amount of USD, at most " +
                                          std::to_string(limits_.max_estimated_cost_usd));
      }
    }
    std::optional<TimePoint> occurred = Timestamp(v[kFOccurredAt]);
    MarkTotalTokensMismatch(out);
    if (dialect_ == Dialect::kIngest) {
      FillFromContext(v, occurred, out);
    } else {
      FillCanonical(v, occurred, out);
    }
  }

  void FillFromContext(const std::array<const RawMember*, kFieldCount>& v,
                       std::optional<TimePoint> occurred, UsageEvent& out) {
    const IngestContext& ctx = *ctx_;
    out.workspace.assign(ctx.workspace);
    out.api_key_id.assign(ctx.api_key_id);
    out.received_at = ctx.received_at;
    if (out.environment.empty()) {
      out.environment.assign(ctx.default_environment.empty() ? std::string_view("prod")
                                                             : ctx.default_environment);
    }
    std::string& project = out.project;  // written in place (its buffer may be reused)
    Text(v[kFProject], project, limits_.max_string_bytes);
    if (project.empty()) project.assign(ctx.default_project);
    if (!project.empty() && ctx.projects && !ctx.projects->empty() &&
        !ctx.projects->contains(project)) {
      if (ctx.strict_projects) {
        AddError(v[kFProject] ? std::string(v[kFProject]->key) : "project",
                 "unknown project \"" + project + "\"");
      } else {
        out.project_raw.swap(project);  // left empty: the slug is unattributed
        out.warnings |= kWarnUnknownProject;
      }
    }
    out.occurred_at = occurred.value_or(ctx.received_at);
    out.occurred_at_defaulted = !occurred;
    if (occurred) {
      const RawMember* m = v[kFOccurredAt];
      if (*occurred > ctx.received_at + limits_.max_future_skew) {
        AddError(std::string(m->key), "is more than " +
                                          std::to_string(limits_.max_future_skew.count()) +
                                          " s ahead of the receive time");
      } else if (*occurred < ctx.received_at - limits_.max_past_skew) {
        AddError(std::string(m->key), "is more than " +
                                          std::to_string(limits_.max_past_skew.count()) +
                                          " s behind the receive time");
      }
    }
  }

  void FillCanonical(const std::array<const RawMember*, kFieldCount>& v,
                     std::optional<TimePoint> occurred, UsageEvent& out) {
    const size_t max_text = limits_.max_string_bytes;
    Text(v[kFWorkspace], out.workspace, max_text);
    if (v[kFWorkspace] && out.workspace.empty()) AddError("workspace", "must not be empty");
    Text(v[kFProject], out.project, max_text);
    Text(v[kFProjectRaw], out.project_raw, max_text);
    Text(v[kFApiKeyId], out.api_key_id, max_text);
    if (v[kFModelRaw]) {
      Text(v[kFModelRaw], out.model_raw, max_text);
    }
    if (occurred) out.occurred_at = *occurred;
    if (auto r = Timestamp(v[kFReceivedAt])) out.received_at = *r;
    if (const RawMember* m = v[kFOccurredAtDefaulted]) {
      if (m->type != RawType::kBool) {
        AddError("occurred_at_defaulted", "must be true or false");
      } else {
        out.occurred_at_defaulted = m->text == "true";
        if (out.occurred_at_defaulted && out.occurred_at != out.received_at) {
          AddError("occurred_at_defaulted", "is true, so occurred_at must equal received_at");
        }
      }
    }
    if (const RawMember* m = v[kFVersion]) {
      if (m->type != RawType::kNumber || m->text != "1") {
        AddError("v", "unsupported schema version (this build reads 1)");
      }
    }
    if (const RawMember* m = v[kFWarnings]) {
      std::string list;
      if (Text(m, list, max_text)) {
        size_t pos = 0;
        while (pos < list.size()) {
          size_t comma = list.find(',', pos);
          std::string_view item = std::string_view(list).substr(
              pos, comma == std::string::npos ? std::string::npos : comma - pos);
          if (item == "total_tokens_mismatch") out.warnings |= kWarnTotalTokensMismatch;
          if (item == "unknown_project") out.warnings |= kWarnUnknownProject;
          pos = comma == std::string::npos ? list.size() : comma + 1;
        }
      }
    }
  }

  const IngestLimits& limits_;
  const Normalizer& normalizer_;
  Dialect dialect_;
  const IngestContext* ctx_;
  size_t index_ = 0;
  std::vector<FieldError>* errors_ = nullptr;
};

}  // namespace tokenmeter

#endif  // TOKENMETER_MODEL_SRC_EVENT_VALIDATOR_H_
