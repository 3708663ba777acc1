// tools/pyconc/timeline.cpp -- the trace as lanes, rows and a summary (timeline.hpp).
#include "timeline.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>
#include <utility>

#include <pyconc/aiohttp/detail/html_escape.hpp>
#include <pyconc/errors.hpp>

#include "timeline_css.hpp"
#include "timeline_js.hpp"

namespace pyconc::tool {

namespace {

using nlohmann::json;
constexpr int kMaxRows = 16;  // deeper nesting or more overlap shares the last row

struct LaneKey {
  int pid, tid;
  auto operator<=>(const LaneKey&) const = default;
};

int int_field(const json& e, const char* key) {
  const auto it = e.find(key);
  if (it == e.end()) return 0;
  if (it->is_number()) return it->get<int>();
  if (it->is_string()) {  // some producers write string tids
    try {
      return std::stoi(it->get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return 0;
}

double num_field(const json& e, const char* key, double fallback = 0) {
  const auto it = e.find(key);
  return it != e.end() && it->is_number() ? it->get<double>() : fallback;
}

std::string str_field(const json& e, const char* key) {
  const auto it = e.find(key);
  return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string fmt_us(double us) {
  char buf[64];
  if (us >= 1e6) {
    std::snprintf(buf, sizeof buf, "%.3f s", us / 1e6);
  } else if (us >= 1e3) {
    std::snprintf(buf, sizeof buf, "%.3f ms", us / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f µs", us);
  }
  return buf;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size()))) -
                 (p > 0 ? 1 : 0);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// Rows: a lane's spans nest (a step inside a callback...) by a stack; async spans (requests,
// pages) overlap freely and take the first free row below the nested ones. Also the lane's
// busy time: the union of its top-level synchronous spans.
void assign_rows(Timeline& t) {
  std::vector<std::vector<std::size_t>> by_lane(t.lanes.size());
  for (std::size_t i = 0; i < t.spans.size(); ++i) by_lane[t.spans[i].lane].push_back(i);
  for (std::size_t l = 0; l < t.lanes.size(); ++l) {
    auto& idx = by_lane[l];
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
      const auto& x = t.spans[a];
      const auto& y = t.spans[b];
      return std::tie(x.ts_us, y.dur_us) < std::tie(y.ts_us, x.dur_us);  // longer first on ties
    });
    std::vector<double> stack;  // ends of the open synchronous spans
    int depth = 1;
    double busy = 0, cover_end = -1e300;
    for (std::size_t i : idx) {
      TimelineSpan& s = t.spans[i];
      if (s.async) continue;
      const double end = s.ts_us + std::max(0.0, s.dur_us);
      // 1 ns of slack: a span that starts where the last one ended (in µs, as doubles) follows it.
      while (!stack.empty() && stack.back() <= s.ts_us + 1e-3) stack.pop_back();
      s.row = std::min(static_cast<int>(stack.size()), kMaxRows - 1);
      if (s.dur_us >= 0) {
        if (stack.empty()) {  // top level: add what it covers beyond what is counted
          busy += std::max(0.0, end - std::max(s.ts_us, cover_end));
          cover_end = std::max(cover_end, end);
        }
        stack.push_back(end);
      }
      depth = std::max(depth, s.row + 1);
    }
    std::vector<double> row_end;  // async rows, below the nested ones
    for (std::size_t i : idx) {
      TimelineSpan& s = t.spans[i];
      if (!s.async) continue;
      std::size_t r = 0;
      while (r < row_end.size() && row_end[r] > s.ts_us + 1e-3) ++r;
      if (r == row_end.size()) row_end.push_back(0);
      row_end[r] = s.ts_us + std::max(0.0, s.dur_us);
      s.row = std::min(depth + static_cast<int>(r), kMaxRows - 1);
    }
    t.lanes[l].rows = std::min(kMaxRows, depth + static_cast<int>(row_end.size()));
    t.lanes[l].busy_us = busy;
    t.lanes[l].spans = idx.size();
  }
}

void summarise(Timeline& t) {
  std::map<std::string, std::vector<double>> waits;
  for (const TimelineSpan& s : t.spans) {
    if (s.queued_ns >= 0) waits[s.cat].push_back(s.queued_ns / 1000.0);
  }
  for (auto& [cat, v] : waits) {
    QueueWait q;
    q.cat = cat;
    q.count = v.size();
    q.max_us = *std::max_element(v.begin(), v.end());
    q.p50_us = percentile(v, 50);
    q.p99_us = percentile(v, 99);
    t.queue_waits.push_back(q);
  }
  std::vector<std::size_t> idx;
  for (std::size_t i = 0; i < t.spans.size(); ++i) {
    if (t.spans[i].dur_us >= 0) idx.push_back(i);
  }
  const std::size_t n = std::min<std::size_t>(10, idx.size());
  std::partial_sort(
      idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n), idx.end(),
      [&](std::size_t a, std::size_t b) { return t.spans[a].dur_us > t.spans[b].dur_us; });
  t.longest.assign(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n));
}

// JSON text safe inside a <script> element: '<' appears only inside JSON strings, where \u003c
// means the same.
std::string script_safe(const std::string& json_text) {
  std::string out;
  out.reserve(json_text.size());
  for (const char c : json_text) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string esc(std::string_view s) {
  return pyconc::detail::html_escape(s);
}

}  // namespace

Timeline build_timeline(const std::string& json_text, std::size_t max_events) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw ValueError(std::string("not a trace: invalid JSON: ") + e.what());
  }
  const json* events = &doc;
  if (doc.is_object()) {
    const auto it = doc.find("traceEvents");
    if (it == doc.end() || !it->is_array()) {
      throw ValueError("not a trace: a JSON object without a \"traceEvents\" array");
    }
    events = &*it;
  } else if (!doc.is_array()) {
    throw ValueError("not a trace: expected {\"traceEvents\": [...]} or an array of events");
  }

  Timeline t;
  std::map<int, std::string> process_names;
  std::map<LaneKey, std::string> thread_names;
  std::map<LaneKey, std::size_t> lane_of;
  std::map<LaneKey, double> lane_first;
  auto lane = [&](int pid, int tid, double ts) {
    const LaneKey k{pid, tid};
    auto [it, fresh] = lane_of.try_emplace(k, t.lanes.size());
    if (fresh) {
      t.lanes.push_back(TimelineLane{.pid = pid, .tid = tid});
      lane_first[k] = ts;
    } else {
      lane_first[k] = std::min(lane_first[k], ts);
    }
    return it->second;
  };
  std::map<LaneKey, std::vector<std::size_t>> open_b;                           // B/E per thread
  std::map<std::tuple<int, std::string, std::string>, std::size_t> open_async;  // b/e by id
  bool any_time = false;
  for (const json& e : *events) {
    if (!e.is_object()) throw ValueError("not a trace: an event that is not a JSON object");
    const std::string ph = str_field(e, "ph");
    const int pid = int_field(e, "pid");
    const int tid = int_field(e, "tid");
    if (ph == "M") {
      const std::string name = e.contains("args") && e["args"].is_object()
                                   ? str_field(e["args"], "name")
                                   : std::string();
      if (str_field(e, "name") == "process_name") process_names[pid] = name;
      if (str_field(e, "name") == "thread_name") thread_names[{pid, tid}] = name;
      continue;
    }
    if (ph != "X" && ph != "B" && ph != "E" && ph != "b" && ph != "e" && ph != "i" && ph != "I") {
      ++t.skipped;
      continue;
    }
    if (!e.contains("ts") || !e["ts"].is_number()) {
      throw ValueError("not a trace: a \"" + ph + "\" event without a numeric \"ts\"");
    }
    const double ts = e["ts"].get<double>();
    if (ph == "E") {  // closes the last B of its thread
      auto& st = open_b[{pid, tid}];
      if (!st.empty()) {
        TimelineSpan& s = t.spans[st.back()];
        s.dur_us = std::max(0.0, ts - s.ts_us);
        st.pop_back();
        t.end_us = std::max(t.end_us, ts);
      }
      continue;
    }
    if (ph == "e") {
      const auto key = std::make_tuple(pid, str_field(e, "cat"),
                                       e.contains("id") ? e["id"].dump() : std::string());
      const auto it = open_async.find(key);
      if (it != open_async.end()) {
        TimelineSpan& s = t.spans[it->second];
        s.dur_us = std::max(0.0, ts - s.ts_us);
        t.end_us = std::max(t.end_us, ts);
        open_async.erase(it);
      }
      continue;
    }
    TimelineSpan s;
    s.lane = lane(pid, tid, ts);
    s.ts_us = ts;
    s.name = str_field(e, "name");
    s.cat = str_field(e, "cat");
    if (const auto a = e.find("args"); a != e.end() && a->is_object() && !a->empty()) {
      s.args = a->dump();
      if (const auto q = a->find("queued_ns"); q != a->end() && q->is_number()) {
        s.queued_ns = q->get<double>();
      }
    }
    if (ph == "X") {
      s.dur_us = std::max(0.0, num_field(e, "dur"));
    } else if (ph == "i" || ph == "I") {
      s.dur_us = -1;
    } else {
      s.dur_us = 0;  // until its end arrives
      s.async = ph == "b";
      if (s.async) {
        open_async[std::make_tuple(pid, s.cat, e.contains("id") ? e["id"].dump() : std::string())] =
            t.spans.size();
      } else {
        open_b[{pid, tid}].push_back(t.spans.size());
      }
    }
    if (!any_time || ts < t.start_us) t.start_us = ts;
    t.end_us =
        std::max(t.end_us, any_time ? ts + std::max(0.0, s.dur_us) : ts + std::max(0.0, s.dur_us));
    any_time = true;
    t.spans.push_back(std::move(s));
  }
  if (!any_time) t.end_us = t.start_us;

  // Lane order: processes by their first event (the root first), in a process its main thread
  // (tid == pid) first, then by first event.
  std::map<int, double> process_first;
  for (const auto& [k, ts] : lane_first) {
    auto [it, fresh] = process_first.try_emplace(k.pid, ts);
    if (!fresh) it->second = std::min(it->second, ts);
  }
  std::vector<std::size_t> order(t.lanes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto& x = t.lanes[a];
    const auto& y = t.lanes[b];
    return std::make_tuple(process_first[x.pid], x.pid, x.tid != x.pid,
                           lane_first[{x.pid, x.tid}]) <
           std::make_tuple(process_first[y.pid], y.pid, y.tid != y.pid, lane_first[{y.pid, y.tid}]);
  });
  std::vector<std::size_t> new_index(order.size());
  std::vector<TimelineLane> sorted;
  for (std::size_t i = 0; i < order.size(); ++i) {
    new_index[order[i]] = i;
    sorted.push_back(std::move(t.lanes[order[i]]));
  }
  t.lanes = std::move(sorted);
  for (TimelineSpan& s : t.spans) s.lane = new_index[s.lane];
  for (TimelineLane& l : t.lanes) {
    std::string p =
        process_names.count(l.pid) ? process_names[l.pid] : "pid " + std::to_string(l.pid);
    const auto tn = thread_names.find({l.pid, l.tid});
    l.name = p + " / " + (tn != thread_names.end() ? tn->second : "tid " + std::to_string(l.tid));
  }

  if (max_events > 0 && t.spans.size() > max_events) {
    // Keep the longest spans (the picture's shape), in file order.
    std::vector<std::size_t> idx(t.spans.size());
    for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::nth_element(
        idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(max_events), idx.end(),
        [&](std::size_t a, std::size_t b) { return t.spans[a].dur_us > t.spans[b].dur_us; });
    idx.resize(max_events);
    std::sort(idx.begin(), idx.end());
    std::vector<TimelineSpan> kept;
    kept.reserve(idx.size());
    for (std::size_t i : idx) kept.push_back(std::move(t.spans[i]));
    t.dropped = t.spans.size() - kept.size();
    t.spans = std::move(kept);
  }
  assign_rows(t);
  summarise(t);
  return t;
}

std::string render_timeline_fragment(const Timeline& t, const std::string& title) {
  // The data the script draws: lanes, and per event [lane, row, start, dur, name, cat, args]
  // with times in µs from the trace's start and strings as indices into tables.
  json lanes = json::array();
  for (const TimelineLane& l : t.lanes) lanes.push_back({{"name", l.name}, {"rows", l.rows}});
  std::map<std::string, int> name_ix, cat_ix;
  json names = json::array(), cats = json::array(), args = json::array(), ev = json::array();
  auto intern = [](std::map<std::string, int>& ix, json& table, const std::string& s) {
    auto [it, fresh] = ix.try_emplace(s, static_cast<int>(table.size()));
    if (fresh) table.push_back(s);
    return it->second;
  };
  for (const TimelineSpan& s : t.spans) {
    int a = -1;
    if (!s.args.empty()) {
      a = static_cast<int>(args.size());
      args.push_back(s.args);
    }
    ev.push_back(s.lane);
    ev.push_back(s.row);
    ev.push_back(std::round((s.ts_us - t.start_us) * 1000.0) / 1000.0);
    ev.push_back(s.dur_us < 0 ? -1.0 : s.dur_us);
    ev.push_back(intern(name_ix, names, s.name));
    ev.push_back(intern(cat_ix, cats, s.cat));
    ev.push_back(a);
  }
  const json data = {{"lanes", lanes}, {"names", names}, {"cats", cats},
                     {"args", args},   {"ev", ev},       {"duration", t.end_us - t.start_us}};

  std::string h;
  h += "<section class=\"pyconc-timeline\">\n<style>";
  h += kTimelineCss;
  h += "</style>\n<h2>" + esc(title) + "</h2>\n";
  h += "<p class=\"tl-meta\">" + std::to_string(t.spans.size()) + " events in " +
       std::to_string(t.lanes.size()) + " lanes over " + fmt_us(t.end_us - t.start_us);
  if (t.dropped > 0) h += "; the " + std::to_string(t.dropped) + " shortest spans left out";
  if (t.skipped > 0) h += "; " + std::to_string(t.skipped) + " counter/other events not drawn";
  h += ". Wheel: zoom; drag: pan; double-click: whole trace; hover: details.</p>\n";
  h += "<div class=\"tl-view\"><canvas class=\"tl-canvas\"></canvas>"
       "<div class=\"tl-tip\" hidden></div></div>\n";

  h += "<h3>Utilisation per lane</h3>\n<table class=\"tl-table\"><tr><th>lane</th>"
       "<th class=\"num\">spans</th><th class=\"num\">busy</th><th class=\"num\">utilisation</th>"
       "</tr>\n";
  const double window = std::max(1e-9, t.end_us - t.start_us);
  for (const TimelineLane& l : t.lanes) {
    char pct[32];
    std::snprintf(pct, sizeof pct, "%.1f %%", 100.0 * l.busy_us / window);
    h += "<tr><td>" + esc(l.name) + "</td><td class=\"num\">" + std::to_string(l.spans) +
         "</td><td class=\"num\">" + fmt_us(l.busy_us) + "</td><td class=\"num\">" + pct +
         "</td></tr>\n";
  }
  h += "</table>\n";
  if (!t.queue_waits.empty()) {
    h += "<h3>Queue wait (submit to start)</h3>\n<table class=\"tl-table\"><tr><th>executor</th>"
         "<th class=\"num\">tasks</th><th class=\"num\">p50</th><th class=\"num\">p99</th>"
         "<th class=\"num\">max</th></tr>\n";
    for (const QueueWait& q : t.queue_waits) {
      h += "<tr><td>" + esc(q.cat) + "</td><td class=\"num\">" + std::to_string(q.count) +
           "</td><td class=\"num\">" + fmt_us(q.p50_us) + "</td><td class=\"num\">" +
           fmt_us(q.p99_us) + "</td><td class=\"num\">" + fmt_us(q.max_us) + "</td></tr>\n";
    }
    h += "</table>\n";
  }
  if (!t.longest.empty()) {
    h += "<h3>Longest spans</h3>\n<table class=\"tl-table\"><tr><th>span</th><th>lane</th>"
         "<th class=\"num\">start</th><th class=\"num\">duration</th></tr>\n";
    for (std::size_t i : t.longest) {
      const TimelineSpan& s = t.spans[i];
      h += "<tr><td>" + esc(s.name) + " <span class=\"tl-cat\">" + esc(s.cat) + "</span></td><td>" +
           esc(t.lanes[s.lane].name) + "</td><td class=\"num\">+" + fmt_us(s.ts_us - t.start_us) +
           "</td><td class=\"num\">" + fmt_us(s.dur_us) + "</td></tr>\n";
    }
    h += "</table>\n";
  }
  h += "<script type=\"application/json\" class=\"tl-data\">" + script_safe(data.dump()) +
       "</script>\n";
  h += "<script>";
  h += kTimelineJs;
  h += "</script>\n</section>\n";
  return h;
}

std::string render_timeline_page(const Timeline& t, const std::string& title) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>" + esc(title) + "</title>\n</head>\n<body>\n";
  // Errors of the page's own script are listed here (the browser test reads it).
  h += "<pre id=\"tl-errors\" hidden></pre>\n";
  h += render_timeline_fragment(t, title);
  h += "</body>\n</html>\n";
  return h;
}

Timeline write_timeline_page(const std::string& in, const std::string& out,
                             const std::string& title) {
  std::ifstream f(in, std::ios::binary);
  if (!f) throw OSError(errno, in);
  std::ostringstream text;
  text << f.rdbuf();
  Timeline t;
  try {
    t = build_timeline(text.str());
  } catch (const ValueError& e) {
    throw ValueError(in + ": " + e.what());
  }
  std::ofstream o(out, std::ios::binary | std::ios::trunc);
  if (!o) throw OSError(errno, out);
  o << render_timeline_page(t, title);
  o.close();
  if (!o) throw OSError(errno, out);
  return t;
}

}  // namespace pyconc::tool
