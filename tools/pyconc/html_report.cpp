// tools/pyconc/html_report.cpp -- HTML and SVG rendering of the compare report.
#include "html_report.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <pyconc/aiohttp/detail/html_escape.hpp>

namespace pyconc::tool {

namespace {

constexpr char kStyle[] = R"css(
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330;
       max-width: 62rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 2px solid #d7dce5; }
h3 { font-size: 1.05rem; margin: 1.6rem 0 .4rem; }
p { margin: .35rem 0; }
.generated { color: #5b6475; font-size: .85rem; }
table { border-collapse: collapse; margin: .6rem 0; }
table.facts th { text-align: left; padding: .1rem 1rem .1rem 0; vertical-align: top; color: #5b6475;
                 font-weight: 600; }
table.facts td { padding: .1rem 0; }
table.data th, table.data td { padding: .2rem .7rem; border-bottom: 1px solid #e3e7ee; }
table.data th { background: #f2f4f8; font-weight: 600; }
table.data td.num, table.data th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.data tr:hover td { background: #f8f9fc; }
figure { margin: .6rem 0; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: #1d2330; }
pre { background: #f5f6f9; padding: .5rem; overflow-x: auto; }
ul.notes li { margin: .25rem 0; }
)css";

constexpr char kCppColour[] = "#2f6db5";
constexpr char kPythonColour[] = "#e0902d";

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

std::string render_chart_svg(const std::vector<ChartBar>& bars) {
  // Layout, in px: a label column, then the bars; two bars per model (C++ above Python), the
  // time written after each bar.
  constexpr double kLabelWidth = 230;
  constexpr double kBarArea = 420;
  constexpr double kValueWidth = 110;
  constexpr double kBar = 13;
  constexpr double kGap = 3;
  constexpr double kRowGap = 12;
  constexpr double kLegend = 26;
  const double width = kLabelWidth + kBarArea + kValueWidth;
  const double row_height = 2 * kBar + kGap + kRowGap;
  const double height = kLegend + row_height * static_cast<double>(bars.size()) + 4;

  double max_seconds = 0;
  for (const ChartBar& b : bars) {
    if (b.cpp) max_seconds = std::max(max_seconds, *b.cpp);
    if (b.python) max_seconds = std::max(max_seconds, *b.python);
  }
  auto bar_width = [&](double s) {
    if (!(max_seconds > 0) || !std::isfinite(s) || s <= 0) return 0.0;
    return std::max(1.0, s / max_seconds * kBarArea);  // a time is never invisible
  };

  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"" +
                    number(width) + "\" height=\"" + number(height) + "\" viewBox=\"0 0 " +
                    number(width) + " " + number(height) + "\">\n";
  svg += "<title>wall time per model, C++ and Python (linear scale)</title>\n";
  // Legend.
  svg += "<rect x=\"" + number(kLabelWidth) + "\" y=\"4\" width=\"12\" height=\"12\" fill=\"" +
         kCppColour + "\"/><text x=\"" + number(kLabelWidth + 17) +
         "\" y=\"14\">C++ (pyconc)</text>\n";
  svg += "<rect x=\"" + number(kLabelWidth + 120) +
         "\" y=\"4\" width=\"12\" height=\"12\" fill=\"" + kPythonColour + "\"/><text x=\"" +
         number(kLabelWidth + 137) + "\" y=\"14\">Python</text>\n";

  double y = kLegend;
  for (const ChartBar& b : bars) {
    svg += "<text x=\"" + number(kLabelWidth - 8) + "\" y=\"" + number(y + kBar + kGap / 2 + 4) +
           "\" text-anchor=\"end\">" + pyconc::detail::html_escape(b.label) + "</text>\n";
    auto one = [&](const std::optional<double>& seconds, const char* colour, double top,
                   bool estimate, const char* language) {
      if (!seconds) {
        svg += "<text x=\"" + number(kLabelWidth + 4) + "\" y=\"" + number(top + kBar - 2) +
               "\" fill-opacity=\"0.6\">— (no " + std::string(language) + " run)</text>\n";
        return;
      }
      const double w = bar_width(*seconds);
      const std::string value = (estimate ? "~" : "") + format_seconds(*seconds);
      svg += "<rect x=\"" + number(kLabelWidth) + "\" y=\"" + number(top) + "\" width=\"" +
             number(w) + "\" height=\"" + number(kBar) + "\" fill=\"" + colour + "\"" +
             (estimate ? " fill-opacity=\"0.55\"" : "") + "><title>" + language + ": " +
             pyconc::detail::html_escape(value) + (estimate ? " (estimate)" : "") +
             "</title></rect>\n";
      svg += "<text x=\"" + number(kLabelWidth + w + 5) + "\" y=\"" + number(top + kBar - 2) +
             "\">" + pyconc::detail::html_escape(value) + "</text>\n";
    };
    one(b.cpp, kCppColour, y, false, "C++");
    one(b.python, kPythonColour, y + kBar + kGap, b.python_estimate, "Python");
    y += row_height;
  }
  svg += "</svg>";
  return svg;
}

std::string render_html(const HtmlReport& report) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>" + pyconc::detail::html_escape(report.title) + "</title>\n<style>" + kStyle +
       "</style>\n";
  h += "</head>\n<body>\n<h1>" + pyconc::detail::html_escape(report.title) + "</h1>\n";
  if (!report.generated.empty()) {
    h += "<p class=\"generated\">" + pyconc::detail::html_escape(report.generated) + "</p>\n";
  }
  if (!report.facts.empty()) {
    h += "<table class=\"facts\">\n";
    for (const auto& [key, value] : report.facts) {
      h += "<tr><th>" + pyconc::detail::html_escape(key) + "</th><td>" +
           pyconc::detail::html_escape(value) + "</td></tr>\n";
    }
    h += "</table>\n";
  }

  const std::string* part = nullptr;
  for (const ReportSection& s : report.sections) {
    if (part == nullptr || *part != s.part) {
      part = &s.part;
      if (!s.part.empty()) h += "<h2>" + pyconc::detail::html_escape(s.part) + "</h2>\n";
    }
    h += "<section>\n<h3>" + pyconc::detail::html_escape(s.heading) + "</h3>\n";
    for (const std::string& p : s.intro) h += "<p>" + pyconc::detail::html_escape(p) + "</p>\n";
    if (!s.chart.empty()) {
      h += "<figure>" + render_chart_svg(s.chart) + "</figure>\n";
    }
    const auto& cols = s.table.columns();
    h += "<table class=\"data\">\n<tr>";
    for (const Table::Column& c : cols) {
      h += std::string(c.align == Table::Align::right ? "<th class=\"num\">" : "<th>") +
           pyconc::detail::html_escape(c.header) + "</th>";
    }
    h += "</tr>\n";
    for (const auto& row : s.table.rows()) {
      h += "<tr>";
      for (std::size_t i = 0; i < cols.size(); ++i) {
        h += cols[i].align == Table::Align::right ? "<td class=\"num\">" : "<td>";
        if (i < row.size()) h += pyconc::detail::html_escape(row[i]);
        h += "</td>";
      }
      h += "</tr>\n";
    }
    h += "</table>\n";
    for (std::size_t i = 0; i < s.findings.size(); ++i) {
      h += "<p>" + pyconc::detail::html_escape(s.findings[i]) + "</p>\n";
      if (i == 0 && !s.details.empty()) {
        h += "<details><summary>every value</summary><pre>";
        for (const std::string& line : s.details) h += pyconc::detail::html_escape(line) + "\n";
        h += "</pre></details>\n";
      }
    }
    h += "</section>\n";
  }

  if (!report.notes.empty()) {
    h += "<h2>Notes</h2>\n<ul class=\"notes\">\n";
    for (const std::string& n : report.notes)
      h += "<li>" + pyconc::detail::html_escape(n) + "</li>\n";
    h += "</ul>\n";
  }
  h += report.appendix_html;
  h += "</body>\n</html>\n";
  return h;
}

std::string write_html(const std::string& path, const HtmlReport& report) {
  const std::string html = render_html(report);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) return "cannot open " + path + ": " + std::strerror(errno);
  f << html;
  f.close();
  if (!f) return "cannot write " + path + ": " + std::strerror(errno);
  return {};
}

}  // namespace pyconc::tool
