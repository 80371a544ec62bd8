// Names in an .sdc file are arbitrary bytes (spec §6). Before a name reaches a terminal, a log line or a
// JSON string it passes through here: a control character (ESC starts terminal escape sequences) or a byte
// that is not part of valid UTF-8 must never be written out as it is.
#pragma once

#include <string>
#include <string_view>

namespace sdc {

// Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), as JSON needs.
bool IsUtf8(std::string_view bytes);

// For terminals and messages: a backslash becomes "\\"; C0 controls, DEL, C1 controls (U+0080..U+009F) and
// bytes outside valid UTF-8 become "\xHH" (lowercase hex, one per byte); everything else is kept, so the
// result is valid UTF-8 with no control character and the original bytes can be read back from it. With
// `escape_backslash` false a backslash is kept: for a last pass over a message whose names were already
// escaped (cli's Fail), which must not escape them twice.
std::string Printable(std::string_view bytes, bool escape_backslash = true);

// For JSON string values: valid UTF-8 kept as it is, every byte outside it replaced by U+FFFD. Lossy:
// reports add the name's bytes in hex beside it (spec §13).
std::string Utf8Lossy(std::string_view bytes);

// Lowercase hex of every byte ("ff41" for "\xffA").
std::string HexBytes(std::string_view bytes);

}  // namespace sdc
