// tools/pyconc/html_report.hpp -- `pyconc compare --report out.html`: the report as one
// self-contained HTML file.
//
// Everything is inline: the CSS in a <style> element, one SVG bar chart per workload (wall time
// per model, C++ beside Python, on a linear scale shared by the two languages, each bar
// labelled with its time), the same tables as the terminal. No external asset, no web font: the
// file can be mailed, attached to a CI run or opened offline. All text is HTML-escaped. The only
// script is the appendix's timeline (inline, as everything else); the tables and charts do not
// need it.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report.hpp"

namespace pyconc::tool {

struct HtmlReport {
  std::string title;
  std::vector<std::pair<std::string, std::string>> facts;  // machine, compiler, sizes, ...
  std::vector<ReportSection> sections;                     // grouped by ReportSection::part
  std::vector<std::string> notes;
  std::string generated;      // "2026-11-25 13:45 UTC, pyconc compare --quick"
  std::string appendix_html;  // raw HTML after the notes: the timeline (timeline.hpp), or ""
};

// The whole document.
std::string render_html(const HtmlReport& report);

// An inline SVG bar chart of `bars` (exposed for tests of the layout; render_html uses it).
std::string render_chart_svg(const std::vector<ChartBar>& bars);

// Writes render_html(report) to `path` (replacing it). Returns "" on success, else why not.
std::string write_html(const std::string& path, const HtmlReport& report);

}  // namespace pyconc::tool
