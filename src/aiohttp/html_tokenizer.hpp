// The streaming HTML tokenizer behind html::LinkScanner: the WHATWG tokenizer's states that
// decide where tags are (data, tag open/name, attributes in every quoting form, comments, bogus
// comments, DOCTYPE, CDATA in svg/math, RCDATA title/textarea, RAWTEXT style/xmp/iframe/
// noembed/noframes, script data with its escaped and double-escaped states, plaintext), fed in
// chunks of any size. It keeps only what a crawler reads: the href of every <a> and <area>
// (document order), the first <base href>, and the text of the first HTML <title>, with
// character references decoded as the standard says. It builds no tree, so memory is the links
// plus an unfinished token (a bounded lookahead, or a tag's text), and nesting costs nothing.
//
// Tree construction is modelled only where it changes tokenizing or what an element is: svg and
// math open foreign content (their <title>, <a>, <script>, <style> are not HTML's; CDATA
// sections are recognised there), the tags that break out of foreign content close it, and
// foreignObject/desc/title and mi/mo/mn/ms/mtext/annotation-xml hold HTML again. Elements the
// tree builder would drop (a start tag inside <select>, anything after <frameset>) are kept.
// Internal to src/aiohttp. Thread safety: none (one scanner per thread).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pyconc::detail {

class LinkTokenizer {
 public:
  // Tokenizes `chunk` after what came before; an unfinished token waits for the next chunk.
  void feed(std::string_view chunk);
  // End of input: an unfinished tag is dropped (as the standard does), unfinished text kept.
  void close();

  // The href values of <a href> and <area href> in document order (decoded, not trimmed).
  const std::vector<std::string>& hrefs() const noexcept { return hrefs_; }
  // The first <base href> value.
  const std::optional<std::string>& base_href() const noexcept { return base_href_; }
  // The text of the first HTML <title> (decoded, whitespace kept).
  const std::optional<std::string>& title() const noexcept { return title_; }

 private:
  enum class State {
    data,
    tag_open,
    end_tag_open,
    tag_name,
    before_attr_name,
    attr_name,
    after_attr_name,
    before_attr_value,
    attr_value_dq,
    attr_value_sq,
    attr_value_uq,
    after_attr_value_quoted,
    self_closing,
    markup_declaration,
    comment_start,
    comment,
    bogus_comment,
    doctype,
    cdata,
    rcdata,
    rawtext,
    script,
    plaintext,
  };
  enum class ScriptMode { normal, escaped, double_escaped };
  struct Foreign {
    std::string name;
    bool integration = false;  // holds HTML (foreignObject, desc, title, mi, ...)
  };

  void run();
  bool step();  // one transition; false when it needs more input
  bool avail(std::size_t n) const noexcept { return closed_ || buf_.size() - pos_ >= n; }
  bool seek(char c) noexcept;                 // pos_ to the next `c` (true), or to the end (false)
  bool end_tag_ahead(std::string_view name);  // "</name" + delimiter at pos_
  bool char_ref(std::string* out, bool in_attribute);
  void start_tag();
  void finish_attribute();
  void emit_tag();
  void text_out(std::string_view s);
  bool in_foreign() const noexcept { return !foreign_.empty() && !foreign_.back().integration; }

  std::string buf_;
  std::size_t pos_ = 0;
  bool closed_ = false;
  State state_ = State::data;
  ScriptMode script_mode_ = ScriptMode::normal;
  std::string raw_end_;  // the element whose end tag ends rcdata/rawtext/script

  bool end_tag_ = false;
  bool self_closing_ = false;
  bool tag_wanted_ = false;  // a, area or base: its href is read
  std::string tag_;
  std::string attr_;
  std::string value_;
  std::optional<std::string> tag_href_;
  bool in_title_ = false;  // collecting the first title's text
  std::string title_text_;

  std::vector<Foreign> foreign_;
  std::vector<std::string> hrefs_;
  std::optional<std::string> base_href_;
  std::optional<std::string> title_;
};

// The preprocessing gumbo applies to every string it stores, for a decoded value: CR LF and CR
// become LF, NUL and invalid UTF-8 become U+FFFD.
std::string html_clean_text(std::string_view s);

}  // namespace pyconc::detail
