#include "pyconc/subprocess/exceptions.hpp"

#include <string.h>  // sigabbrev_np (GNU)

#include <cstdio>
#include <sstream>
#include <string_view>
#include <utility>

namespace pyconc::subprocess {

namespace {

// Python's repr() of a str: single quotes unless the text has ' and no ", escapes for the
// quote, backslash and control characters; other bytes as they are.
std::string py_repr(std::string_view s) {
  const char q = (s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos)
                     ? '"'
                     : '\'';
  std::string out(1, q);
  for (const char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c == q) {
          out += '\\';
          out += c;
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char hex[5];
          std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(c));
          out += hex;
        } else {
          out += c;
        }
    }
  }
  out += q;
  return out;
}

// Python's repr() of a list of str: ['ls', '-l'].
std::string py_repr(const std::vector<std::string>& list) {
  std::string out = "[";
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i != 0) out += ", ";
    out += py_repr(list[i]);
  }
  return out + "]";
}

std::string called_what(int returncode, const std::vector<std::string>& cmd) {
  std::string what = "Command '" + py_repr(cmd) + "' ";
  if (returncode < 0) {
    const char* abbrev = sigabbrev_np(-returncode);
    if (abbrev != nullptr) {
      what += "died with <Signals.SIG" + std::string(abbrev) + ": " + std::to_string(-returncode) +
              ">.";
    } else {
      what += "died with unknown signal " + std::to_string(-returncode) + ".";
    }
  } else {
    what += "returned non-zero exit status " + std::to_string(returncode) + ".";
  }
  return what;
}

std::string timeout_what(const std::vector<std::string>& cmd,
                         std::chrono::duration<double> timeout) {
  std::ostringstream what;
  what << "Command '" << py_repr(cmd) << "' timed out after " << timeout.count() << " seconds";
  return what.str();
}

}  // namespace

CalledProcessError::CalledProcessError(int returncode, std::vector<std::string> cmd,
                                       std::string output, std::string stderr_text)
    : SubprocessError(called_what(returncode, cmd)),
      returncode_(returncode),
      cmd_(std::move(cmd)),
      output_(std::move(output)),
      stderr_(std::move(stderr_text)) {}

TimeoutExpired::TimeoutExpired(std::vector<std::string> cmd, std::chrono::duration<double> timeout,
                               std::string output, std::string stderr_text)
    : SubprocessError(timeout_what(cmd, timeout)),
      cmd_(std::move(cmd)),
      timeout_(timeout),
      output_(std::move(output)),
      stderr_(std::move(stderr_text)) {}

}  // namespace pyconc::subprocess
