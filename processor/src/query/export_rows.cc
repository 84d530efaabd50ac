#include "export_rows.h"

#include "tokenmeter/base/json_text.h"

namespace tokenmeter {
namespace {

void AppendCsv(std::string& out, const Cell& c) {
  if (c.kind == Cell::kNull) return;
  if (c.value.find_first_of(",\"\r\n") == std::string::npos) {
    out += c.value;
    return;
  }
  out.push_back('"');
  for (char ch : c.value) {
    if (ch == '"') out.push_back('"');
    out.push_back(ch);
  }
  out.push_back('"');
}

}  // namespace

void AppendRow(std::string& out, Format f, std::span<const char* const> names, const std::vector<Cell>& cells,
               bool first) {
  if (f == Format::kCsv || f == Format::kFocus) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) out.push_back(',');
      AppendCsv(out, cells[i]);
    }
    out += "\r\n";
    return;
  }
  if (f == Format::kJson && !first) out.push_back(',');
  out.push_back('{');
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    out += names[i];
    out += "\":";
    if (cells[i].kind == Cell::kText) {
      AppendJsonString(out, cells[i].value);
    } else if (cells[i].kind == Cell::kNumber) {
      out += cells[i].value;
    } else {
      out += "null";
    }
  }
  out.push_back('}');
  if (f == Format::kNdjson) out.push_back('\n');
}

void FrameExport(Format f, std::span<const char* const> names, std::string_view file_stem,
                 std::string_view json_members, std::string_view array, HttpResponse& r, std::string& head,
                 std::string& tail) {
  std::string extension;
  if (f == Format::kCsv || f == Format::kFocus) {
    r.content_type = "text/csv; charset=utf-8";
    for (size_t i = 0; i < names.size(); ++i) head += std::string(i ? "," : "") + names[i];
    head += "\r\n";
    extension = f == Format::kFocus ? "-focus.csv" : ".csv";
  } else if (f == Format::kNdjson) {
    r.content_type = "application/x-ndjson";
    extension = ".ndjson";
  } else {
    head = "{\"ok\":true,";
    head += json_members;
    head += ",\"";
    head += array;
    head += "\":[";
    tail = "]}";
    extension = ".json";
  }
  r.headers.emplace_back("Content-Disposition",
                         "attachment; filename=\"" + std::string(file_stem) + extension + "\"");
}

}  // namespace tokenmeter
