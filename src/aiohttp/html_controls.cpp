// Control characters shielded from gumbo and restored after the parse (see html_controls.hpp).
#include "html_controls.hpp"

#include <cstddef>
#include <cstring>
#include <vector>

namespace pyconc::detail {

namespace {

// The controls gumbo replaces (its invalid code points below U+00A0; NUL is the standard's own
// U+FFFD and stays).
bool gumbo_replaces(unsigned c) {
  return (c >= 0x01 && c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) ||
         (c >= 0x7F && c <= 0x9F);
}

// U+10FE00 + c in UTF-8: F4 8F (B8 + c / 64) (80 + c % 64).
constexpr unsigned char kLead0 = 0xF4, kLead1 = 0x8F, kLead2 = 0xB8;

void append_shielded(std::string& out, unsigned c) {
  out += static_cast<char>(kLead0);
  out += static_cast<char>(kLead1);
  out += static_cast<char>(kLead2 + (c >> 6));
  out += static_cast<char>(0x80 + (c & 0x3F));
}

// The control at `p` (1 byte, or C2 xx for C1), else 0.
unsigned control_at(const unsigned char* p, const unsigned char* end) {
  if (*p < 0x80) return gumbo_replaces(*p) ? *p : 0;
  if (*p == 0xC2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0x9F) return p[1];
  return 0;
}

// A code point of our range at `p` (genuine in the input, or shielded in the tree), else 0.
unsigned shielded_at(const unsigned char* p, const unsigned char* end) {
  if (p[0] != kLead0 || end - p < 4 || p[1] != kLead1 || p[2] < kLead2 || p[2] > kLead2 + 2 ||
      (p[3] & 0xC0) != 0x80)
    return 0;
  const unsigned c = ((p[2] - kLead2) << 6) | (p[3] & 0x3F);
  return gumbo_replaces(c) ? c : 0;
}

// Restores the controls of a NUL-terminated string gumbo allocated (each 4 bytes become 1 or 2:
// the string only shrinks).
void unshield(const char* text) {
  if (text == nullptr) return;
  auto* s = reinterpret_cast<unsigned char*>(const_cast<char*>(text));  // gumbo's own buffer
  const std::size_t n = std::strlen(text);
  unsigned char* const end = s + n;
  unsigned char* w = s;
  for (const unsigned char* r = s; r < end;) {
    if (const unsigned c = shielded_at(r, end); c != 0) {
      if (c >= 0x80) *w++ = 0xC2;
      *w++ = static_cast<unsigned char>(c);
      r += 4;
    } else {
      *w++ = *r++;
    }
  }
  *w = 0;
}

}  // namespace

bool shield_controls(std::string& html) {
  const auto* begin = reinterpret_cast<const unsigned char*>(html.data());
  const auto* end = begin + html.size();
  const unsigned char* p = begin;
  for (; p < end; ++p) {
    if (control_at(p, end) != 0 || shielded_at(p, end) != 0) break;
  }
  if (p == end) return false;
  std::string out;
  out.reserve(html.size() + 64);
  out.append(html, 0, static_cast<std::size_t>(p - begin));
  while (p < end) {
    if (const unsigned c = control_at(p, end); c != 0) {
      append_shielded(out, c);
      p += c >= 0x80 ? 2 : 1;
    } else if (shielded_at(p, end) != 0) {
      out += "\xEF\xBF\xBD";  // a genuine one: U+FFFD, as gumbo gives for a control
      p += 4;
    } else {
      out += static_cast<char>(*p++);
    }
  }
  html = std::move(out);
  return true;
}

void unshield_controls(GumboNode* root) {
  std::vector<GumboNode*> stack{root};
  while (!stack.empty()) {
    GumboNode* n = stack.back();
    stack.pop_back();
    const GumboVector* children = nullptr;
    switch (n->type) {
      case GUMBO_NODE_DOCUMENT:
        children = &n->v.document.children;
        break;
      case GUMBO_NODE_ELEMENT:
      case GUMBO_NODE_TEMPLATE: {
        const GumboVector& attrs = n->v.element.attributes;
        for (unsigned i = 0; i < attrs.length; ++i) {
          auto* a = static_cast<GumboAttribute*>(attrs.data[i]);
          unshield(a->name);
          unshield(a->value);
        }
        children = &n->v.element.children;
        break;
      }
      default:  // text, whitespace, CDATA, comment
        unshield(n->v.text.text);
        break;
    }
    if (children == nullptr) continue;
    for (unsigned i = 0; i < children->length; ++i)
      stack.push_back(static_cast<GumboNode*>(children->data[i]));
  }
}

}  // namespace pyconc::detail
