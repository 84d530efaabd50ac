// How an export writes its rows and frames its body, whatever it exports (events,
// rollups): CSV (RFC 4180, CRLF), NDJSON, or one JSON object holding an array. Pure
// functions; any thread.
#ifndef TOKENMETER_PROCESSOR_QUERY_EXPORT_ROWS_H_
#define TOKENMETER_PROCESSOR_QUERY_EXPORT_ROWS_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tokenmeter/http/http_server.h"

namespace tokenmeter {

// kFocus: CSV with the FinOps FOCUS columns (events only).
enum class Format { kCsv, kNdjson, kJson, kFocus };

// A value of a row: text (quoted in JSON), a number, or absent (empty in CSV, null in JSON).
struct Cell {
  enum Kind { kText, kNumber, kNull } kind;
  std::string value;
};

// One row: a CSV line, or a JSON object whose keys are `names` (the export's columns), after
// a comma unless `first` in the JSON array.
void AppendRow(std::string& out, Format f, std::span<const char* const> names, const std::vector<Cell>& cells,
               bool first);

// The body's frame for format `f`: `r`'s content type and Content-Disposition (file
// `file_stem` with the format's extension), what comes before the first row (CSV: the
// header line of `names`; JSON: {"ok":true,<json_members>,"<array>":[) and after the last.
void FrameExport(Format f, std::span<const char* const> names, std::string_view file_stem,
                 std::string_view json_members, std::string_view array, HttpResponse& r, std::string& head,
                 std::string& tail);

}  // namespace tokenmeter

#endif  // TOKENMETER_PROCESSOR_QUERY_EXPORT_ROWS_H_
