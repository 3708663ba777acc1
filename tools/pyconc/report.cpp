// tools/pyconc/report.cpp -- tables, number formats, progress line.
#include "report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace pyconc::tool {

std::size_t display_width(std::string_view utf8) {
  // Count every byte that does not continue a multi-byte sequence (10xxxxxx).
  return static_cast<std::size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
  }));
}

void Table::print(std::ostream& out, std::string_view indent) const {
  std::vector<std::size_t> widths(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    widths[c] = display_width(columns_[c].header);
    for (const auto& row : rows_) {
      if (c < row.size()) widths[c] = std::max(widths[c], display_width(row[c]));
    }
  }
  auto print_line = [&](auto cell_of) {
    std::string line(indent);
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      const std::string_view cell = cell_of(c);
      const std::string pad(widths[c] - display_width(cell), ' ');
      if (c > 0) line += "   ";
      if (columns_[c].align == Align::right) {
        line += pad;
        line += cell;
      } else {
        line += cell;
        line += pad;
      }
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  };
  print_line([&](std::size_t c) -> std::string_view { return columns_[c].header; });
  std::vector<std::string> rules;
  for (std::size_t w : widths) rules.emplace_back(w, '-');
  print_line([&](std::size_t c) -> std::string_view { return rules[c]; });
  for (const auto& row : rows_) {
    print_line([&](std::size_t c) -> std::string_view {
      return c < row.size() ? std::string_view(row[c]) : std::string_view();
    });
  }
}

std::string wrap(std::string_view text, std::string_view first, std::string_view rest,
                 std::size_t width) {
  std::string out;
  std::string line(first);
  std::size_t line_width = display_width(first);
  bool line_has_word = false;
  while (!text.empty()) {
    const auto space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
    if (word.empty()) continue;
    const std::size_t w = display_width(word);
    if (line_has_word && line_width + 1 + w > width) {
      out += line + "\n";
      line = rest;
      line_width = display_width(rest);
      line_has_word = false;
    }
    if (line_has_word) {
      line += ' ';
      ++line_width;
    }
    line += word;
    line_width += w;
    line_has_word = true;
  }
  if (line_has_word) out += line + "\n";
  return out;
}

namespace {

// `value` with three significant digits (two decimals at most), then `unit`.
std::string three_digits(double value, const char* unit) {
  int decimals = value >= 100 ? 0 : value >= 10 ? 1 : 2;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f%s", decimals, value, unit);
  return buf;
}

}  // namespace

std::string format_seconds(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds >= 1.0) return three_digits(seconds, " s");
  if (seconds >= 1e-3) return three_digits(seconds * 1e3, " ms");
  return three_digits(seconds * 1e6, " µs");
}

std::string format_factor(double factor) {
  if (!std::isfinite(factor) || factor <= 0) return "?";
  return three_digits(factor, "×");
}

void print_section(std::ostream& out, const ReportSection& s) {
  out << s.heading << "\n";
  for (const std::string& p : s.intro) out << wrap(p, "   ");
  out << "\n";
  s.table.print(out, "   ");
  out << "\n";
  for (std::size_t i = 0; i < s.findings.size(); ++i) {
    out << wrap(s.findings[i], "   ");
    if (i == 0) {
      for (const std::string& line : s.details) out << "     " << line << "\n";
    }
  }
  out << "\n";
}

Progress::Progress() : enabled_(isatty(STDERR_FILENO) == 1) {}

void Progress::show(std::string_view text) {
  if (!enabled_) return;
  std::cerr << "\r\033[K" << text << std::flush;
  shown_ = true;
}

void Progress::clear() {
  if (!enabled_ || !shown_) return;
  std::cerr << "\r\033[K" << std::flush;
  shown_ = false;
}

}  // namespace pyconc::tool
