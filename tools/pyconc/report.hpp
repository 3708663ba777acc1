// tools/pyconc/report.hpp -- terminal output of the `pyconc` command: aligned tables, number
// formats, report sections (printed here, rendered as HTML by html_report.hpp) and a progress
// line.
//
// Cells are UTF-8; widths count code points, which is right for the text we print (×, µ, —,
// ~ are one column wide). No colours: the output reads the same in a terminal, a pipe and a
// CI log.
//
// Thread safety: none needed -- used from the main thread only.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pyconc::tool {

class Table {
 public:
  enum class Align { left, right };
  struct Column {
    std::string header;
    Align align = Align::right;
  };

  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

  // A row with one cell per column (missing cells print empty, extra cells are dropped).
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

  // Header, a rule of dashes, then the rows; each line starts with `indent` and columns are
  // separated by three spaces.
  void print(std::ostream& out, std::string_view indent) const;

  const std::vector<Column>& columns() const noexcept { return columns_; }
  const std::vector<std::vector<std::string>>& rows() const noexcept { return rows_; }

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// Columns a UTF-8 string takes in a terminal (its number of code points).
std::size_t display_width(std::string_view utf8);

// `text` as lines of at most `width` columns, broken at spaces: the first line starts with
// `first`, the others with `rest`. Each line ends with '\n'.
std::string wrap(std::string_view text, std::string_view first, std::string_view rest,
                 std::size_t width = 100);
// The same, with continuation lines indented two more spaces than the first.
inline std::string wrap(std::string_view text, std::string_view indent) {
  return wrap(text, indent, std::string(indent) + "  ");
}

// "1.23 s", "45.6 ms", "789 µs": three significant digits in a unit chosen for the value.
std::string format_seconds(double seconds);
// "1.97×", "12.3×", "250×".
std::string format_factor(double factor);

// One bar pair of a section's chart: a model's wall time in each language (nullopt: the
// language has no such model, or it did not run).
struct ChartBar {
  std::string label;
  std::optional<double> cpp;     // seconds
  std::optional<double> python;  // seconds (for all the tasks: an estimate when scaled)
  bool python_estimate = false;  // python was scaled up from a prefix of the tasks
};

// One workload of a report: a heading, prose, the table of models, and what it showed.
struct ReportSection {
  std::string part;     // "CPU-bound", "I/O-bound": the HTML report groups sections by it
  std::string heading;  // "A. is_prime(112272535095293) × 100"
  std::vector<std::string> intro;     // paragraphs printed before the table
  Table table{{}};                    // one row per model
  std::vector<std::string> findings;  // paragraphs after it: results, lessons
  std::vector<std::string> details;   // preformatted lines (-v: every value), after findings[0]
  std::vector<ChartBar> chart;        // wall time per model (HTML only)
};

// Prints `s` as the terminal report does: heading, intro and findings wrapped at 100 columns
// under a 3-space indent, the table between them, a blank line after.
void print_section(std::ostream& out, const ReportSection& s);

// Status text on stderr, rewritten in place ("\r" + erase line), shown only when stderr is a
// terminal so logs stay clean.
class Progress {
 public:
  Progress();
  ~Progress() { clear(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void show(std::string_view text);
  void clear();

 private:
  bool enabled_ = false;
  bool shown_ = false;
};

}  // namespace pyconc::tool
