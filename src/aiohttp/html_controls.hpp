// Control characters through gumbo: gumbo replaces every C0 control (but tab, LF, FF, CR), DEL
// and C1 control of its input with U+FFFD, where the HTML standard keeps them as they are --
// so an href with a \x01 was requested with %EF%BF%BD where a browser sends %01, and a title
// lost its control characters. shield_controls() moves each one, before the parse, to a code
// point gumbo passes through (U+10FE00 + c, in plane 16's private use area);
// unshield_controls() puts them back in the parsed tree's attribute names and values and its
// text, in place. A document that held genuine U+10FE01..U+10FE9F (private use, never seen in
// practice) gets U+FFFD for them, as gumbo would give for a control. Internal to html.cpp.
#pragma once

#include <gumbo.h>

#include <string>

namespace pyconc::detail {

// Rewrites `html` if it holds a control character (false, untouched, if not: one scan).
bool shield_controls(std::string& html);
// Restores what shield_controls() moved, in every node under `root`.
void unshield_controls(GumboNode* root);

}  // namespace pyconc::detail
