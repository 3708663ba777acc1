// CrawlState: the crawl's frontier, seen-set and finished pages in SQLite (see crawl_state.hpp).
//
// Every statement is prepared once. Writes go into one open transaction, committed every
// `batch` records and at commit(): the cost per page is a handful of B-tree updates in the page
// cache (µs), and one WAL append per batch.
#include "pyconc/aiohttp/crawl_state.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "pyconc/detail/unique_fd.hpp"
#include "pyconc/errors.hpp"

namespace pyconc::aiohttp {

namespace {

constexpr int kSchema = 1;

// One prepared statement, reset after each use.
class Stmt {
 public:
  Stmt() = default;
  Stmt(sqlite3* db, const char* sql, const std::string& file) : db_(db), file_(&file) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st_, nullptr) != SQLITE_OK)
      fail("prepare");
  }
  Stmt(Stmt&& o) noexcept
      : db_(std::exchange(o.db_, nullptr)), file_(o.file_), st_(std::exchange(o.st_, nullptr)) {}
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(db_, o.db_);
    std::swap(file_, o.file_);
    std::swap(st_, o.st_);
    return *this;
  }
  ~Stmt() { sqlite3_finalize(st_); }

  Stmt& bind(int i, std::int64_t v) {
    check(sqlite3_bind_int64(st_, i, v), "bind");
    return *this;
  }
  Stmt& bind(int i, std::string_view v) {
    check(sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT),
          "bind");
    return *this;
  }
  // One step: true if a row came (read it with the column accessors before the next call).
  bool step() {
    const int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) {
      sqlite3_reset(st_);
      fail("step");
    }
    return false;
  }
  // Runs to the end and resets; returns the rows changed.
  int run() {
    while (step()) {
    }
    reset();
    return sqlite3_changes(db_);
  }
  void reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(st_, col); }
  std::string text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
    return p == nullptr ? std::string()
                        : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col)));
  }

 private:
  void check(int rc, const char* what) {
    if (rc != SQLITE_OK) fail(what);
  }
  [[noreturn]] void fail(const char* what) const {
    throw OSError(EIO, std::string("SQLite ") + what + ": " + sqlite3_errmsg(db_),
                  file_ ? *file_ : std::string());
  }
  sqlite3* db_ = nullptr;
  const std::string* file_ = nullptr;
  sqlite3_stmt* st_ = nullptr;
};

// Resets a statement when a read leaves scope early (an exception, or one row wanted).
struct ResetOnExit {
  Stmt& s;
  ~ResetOnExit() { s.reset(); }
};

std::string quoted_list(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

}  // namespace

struct CrawlState::Impl {
  std::string dir;
  std::string file;
  CrawlStateOptions options;
  detail::UniqueFd lock;
  sqlite3* db = nullptr;
  bool in_tx = false;
  std::size_t pending = 0;                         // records in the open transaction
  std::chrono::steady_clock::time_point opened{};  // when it began
  std::int64_t next_seq = 0;
  std::int64_t done_count = 0;
  Stmt begin_tx, commit_tx, get_meta, put_meta, seen_has, seen_add, front_add, front_head,
      front_count, front_del, done_has, done_add, done_from;

  ~Impl() {
    // The statements first: sqlite3_close refuses a connection with statements alive.
    for (Stmt* st : {&begin_tx, &commit_tx, &get_meta, &put_meta, &seen_has, &seen_add, &front_add,
                     &front_head, &front_count, &front_del, &done_has, &done_add, &done_from})
      *st = Stmt();
    if (db != nullptr) sqlite3_close(db);
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw OSError(EIO, "SQLite " + what + ": " + sqlite3_errmsg(db), file);
  }
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err != nullptr ? err : "error";
      sqlite3_free(err);
      throw OSError(EIO, std::string("SQLite: ") + msg + " (in: " + sql + ")", file);
    }
  }
  // Writes join the open transaction, opened here if needed.
  void write() {
    if (in_tx) return;
    begin_tx.run();
    in_tx = true;
    opened = std::chrono::steady_clock::now();
  }
  void commit() {
    if (!in_tx) return;
    commit_tx.run();
    in_tx = false;
    pending = 0;
  }
  std::int64_t scalar(const char* sql) {
    Stmt s(db, sql, file);
    const std::int64_t v = s.step() ? s.integer(0) : 0;
    s.reset();
    return v;
  }
};

CrawlState::CrawlState(std::string dir, CrawlStateOptions options) : p_(std::make_unique<Impl>()) {
  Impl& p = *p_;
  if (dir.empty()) throw ValueError("CrawlState: the state directory must not be empty");
  if (options.batch == 0) throw ValueError("CrawlState: batch must be at least 1");
  p.dir = std::move(dir);
  p.options = options;
  if (::mkdir(p.dir.c_str(), 0777) != 0 && errno != EEXIST) raise_os_error(errno, p.dir);
  struct stat st {};
  if (::stat(p.dir.c_str(), &st) != 0) raise_os_error(errno, p.dir);
  if (!S_ISDIR(st.st_mode)) raise_os_error(ENOTDIR, p.dir);
  const std::string lock_path = p.dir + "/state.lock";
  p.lock.reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666));
  if (!p.lock) raise_os_error(errno, lock_path);
  if (::flock(p.lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK)
      throw RuntimeError("CrawlState: " + p.dir + " is in use by another crawl (" + lock_path +
                         " is locked)");
    raise_os_error(errno, lock_path);
  }
  p.file = path();
  if (sqlite3_open_v2(p.file.c_str(), &p.db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string msg = p.db != nullptr ? sqlite3_errmsg(p.db) : "out of memory";
    throw OSError(EIO, "SQLite open: " + msg, p.file);
  }
  sqlite3_extended_result_codes(p.db, 1);
  // Not a SQLite file at all: SQLite notices at the first read.
  try {
    p.exec("PRAGMA journal_mode=WAL");
  } catch (const OSError& e) {
    throw ValueError("CrawlState: " + p.file + " is not a crawl state (" + e.what() + ")");
  }
  p.exec("PRAGMA synchronous=NORMAL");
  p.exec("PRAGMA foreign_keys=OFF");
  p.exec(
      "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS seen(url TEXT PRIMARY KEY) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS frontier(seq INTEGER PRIMARY KEY, depth INTEGER NOT NULL,"
      "  url TEXT NOT NULL);"
      "CREATE TABLE IF NOT EXISTS done(seq INTEGER PRIMARY KEY, url TEXT NOT NULL,"
      "  requested TEXT NOT NULL, attempts INTEGER NOT NULL, line TEXT NOT NULL);"
      "CREATE INDEX IF NOT EXISTS done_url ON done(url);");
  const auto& f = p.file;
  p.begin_tx = Stmt(p.db, "BEGIN IMMEDIATE", f);
  p.commit_tx = Stmt(p.db, "COMMIT", f);
  p.get_meta = Stmt(p.db, "SELECT value FROM meta WHERE key = ?1", f);
  p.put_meta = Stmt(p.db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", f);
  p.seen_has = Stmt(p.db, "SELECT 1 FROM seen WHERE url = ?1", f);
  p.seen_add = Stmt(p.db, "INSERT OR IGNORE INTO seen(url) VALUES(?1)", f);
  p.front_add = Stmt(p.db, "INSERT INTO frontier(seq, depth, url) VALUES(?1, ?2, ?3)", f);
  p.front_head = Stmt(p.db, "SELECT seq, depth, url FROM frontier ORDER BY seq LIMIT ?1", f);
  p.front_count = Stmt(p.db, "SELECT count(*) FROM frontier", f);
  p.front_del = Stmt(p.db, "DELETE FROM frontier WHERE seq = ?1", f);
  p.done_has = Stmt(p.db, "SELECT 1 FROM done WHERE url = ?1 LIMIT 1", f);
  p.done_add = Stmt(p.db,
                    "INSERT INTO done(seq, url, requested, attempts, line) "
                    "VALUES(?1, ?2, ?3, ?4, ?5)",
                    f);
  p.done_from = Stmt(p.db,
                     "SELECT requested, attempts, line FROM done WHERE seq >= ?1 ORDER BY seq "
                     "LIMIT ?2",
                     f);
  if (auto schema = meta("schema")) {
    if (*schema != std::to_string(kSchema))
      throw ValueError("CrawlState: " + p.file + " has schema " + *schema + ", this pyconc reads " +
                       std::to_string(kSchema));
  } else {
    set_meta("schema", std::to_string(kSchema));
    commit();
  }
  // New entries go after every queued one (seq is the crawl order).
  p.next_seq = p.scalar("SELECT coalesce(max(seq), -1) + 1 FROM frontier");
  p.done_count = p.scalar("SELECT count(*) FROM done");
}

CrawlState::~CrawlState() {
  try {
    p_->commit();
  } catch (...) {  // NOLINT(bugprone-empty-catch): the batch is lost, the file stays consistent
  }
}

const std::string& CrawlState::dir() const noexcept {
  return p_->dir;
}
std::string CrawlState::path() const {
  return p_->dir + "/" + std::string(kFileName);
}

bool CrawlState::started() const {
  return meta("start").has_value();
}

bool CrawlState::finished() const {
  return started() && frontier_size() == 0;
}

void CrawlState::begin(const std::vector<std::string>& start,
                       const std::vector<Setting>& settings) {
  const nlohmann::json start_json = start;
  if (auto was = meta("start")) {
    std::vector<std::string> before;
    try {
      before = nlohmann::json::parse(*was).get<std::vector<std::string>>();
    } catch (const nlohmann::json::exception&) {
      throw ValueError("CrawlState: " + p_->file + " holds unreadable start URLs");
    }
    if (before != start) {
      throw ValueError("CrawlState: the state in " + p_->dir + " is a crawl of " +
                       quoted_list(before) + "; this crawl starts at " + quoted_list(start) +
                       ": resume with the same start URLs, or use a new state directory");
    }
    for (const auto& [name, value] : settings) {
      const auto old = meta("setting." + name);
      if (old != value) {
        throw ValueError("CrawlState: the crawl in " + p_->dir + " ran with " + name + " = " +
                         (old ? "'" + *old + "'" : std::string("(unset)")) +
                         "; this one asks for " + name + " = '" + value +
                         "': resume with the same setting, or use a new state directory");
      }
    }
    return;
  }
  p_->write();
  set_meta("start", start_json.dump());
  for (const auto& [name, value] : settings) set_meta("setting." + name, value);
  for (const auto& url : start) enqueue(url, 0);
  commit();
}

std::vector<std::string> CrawlState::start_urls() const {
  auto s = meta("start");
  if (!s) return {};
  return nlohmann::json::parse(*s).get<std::vector<std::string>>();
}

std::optional<std::string> CrawlState::meta(const std::string& key) const {
  Stmt& s = p_->get_meta;
  ResetOnExit r{s};
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

void CrawlState::set_meta(const std::string& key, const std::string& value) {
  p_->write();
  p_->put_meta.bind(1, key).bind(2, value).run();
}

bool CrawlState::seen(const std::string& url) const {
  Stmt& s = p_->seen_has;
  ResetOnExit r{s};
  s.bind(1, url);
  return s.step();
}

bool CrawlState::add_seen(const std::string& url) {
  p_->write();
  return p_->seen_add.bind(1, url).run() > 0;
}

bool CrawlState::enqueue(const std::string& url, int depth) {
  if (!add_seen(url)) return false;
  p_->front_add.bind(1, p_->next_seq).bind(2, std::int64_t{depth}).bind(3, url).run();
  ++p_->next_seq;
  return true;
}

std::vector<CrawlFrontierEntry> CrawlState::frontier(std::size_t n) const {
  std::vector<CrawlFrontierEntry> out;
  Stmt& s = p_->front_head;
  ResetOnExit r{s};
  s.bind(1, static_cast<std::int64_t>(std::min<std::size_t>(n, INT64_MAX)));
  while (s.step()) out.push_back({s.integer(0), static_cast<int>(s.integer(1)), s.text(2)});
  return out;
}

std::size_t CrawlState::frontier_size() const {
  Stmt& s = p_->front_count;
  ResetOnExit r{s};
  return s.step() ? static_cast<std::size_t>(s.integer(0)) : 0;
}

void CrawlState::drop(std::int64_t seq) {
  p_->write();
  p_->front_del.bind(1, seq).run();
}

bool CrawlState::recorded(const std::string& final_url) const {
  Stmt& s = p_->done_has;
  ResetOnExit r{s};
  s.bind(1, final_url);
  return s.step();
}

void CrawlState::record(std::int64_t seq, const std::string& final_url, const CrawlRecord& record) {
  Impl& p = *p_;
  p.write();
  p.front_del.bind(1, seq).run();
  p.seen_add.bind(1, final_url).run();
  p.done_add.bind(1, p.done_count)
      .bind(2, final_url)
      .bind(3, record.requested)
      .bind(4, std::int64_t{record.attempts})
      .bind(5, record.json_line())
      .run();
  ++p.done_count;
  if (++p.pending >= p.options.batch ||
      std::chrono::steady_clock::now() - p.opened >= p.options.commit_interval)
    p.commit();
}

std::size_t CrawlState::pages_done() const {
  return static_cast<std::size_t>(p_->done_count);
}

void CrawlState::for_each_record(
    const std::function<void(const CrawlRecord&, std::string_view line)>& fn,
    std::size_t from) const {
  constexpr std::int64_t kChunk = 512;
  auto next = static_cast<std::int64_t>(from);
  for (;;) {
    // A chunk at a time, the statement reset before the callback runs.
    std::vector<std::pair<CrawlRecord, std::string>> chunk;
    {
      Stmt& s = p_->done_from;
      ResetOnExit r{s};
      s.bind(1, next).bind(2, kChunk);
      while (s.step()) {
        CrawlRecord rec;
        rec.requested = s.text(0);
        rec.attempts = static_cast<int>(s.integer(1));
        std::string line = s.text(2);
        const auto j = nlohmann::json::parse(line);
        rec.url = j.at("url").get<std::string>();
        rec.status = j.at("status").get<int>();
        rec.depth = j.at("depth").get<int>();
        rec.title = j.at("title").get<std::string>();
        for (const auto& it : j.at("items"))
          rec.items.push_back({it.at("href").get<std::string>(), it.at("text").get<std::string>()});
        if (auto e = j.find("error"); e != j.end()) rec.error = e->get<std::string>();
        chunk.emplace_back(std::move(rec), std::move(line));
      }
    }
    for (const auto& [rec, line] : chunk) fn(rec, line);
    if (static_cast<std::int64_t>(chunk.size()) < kChunk) return;
    next += kChunk;
  }
}

void CrawlState::commit() {
  p_->commit();
}

}  // namespace pyconc::aiohttp
