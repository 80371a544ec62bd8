#include "format/printable.h"

#include <cstdint>

namespace sdc {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when s[i] does not start one.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  size_t n;
  uint8_t lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF)
    n = 2;
  else if (c == 0xE0)
    n = 3, lo = 0xA0;  // no overlong 3-byte forms
  else if (c == 0xED)
    n = 3, hi = 0x9F;  // no UTF-16 surrogates
  else if (c >= 0xE1 && c <= 0xEF)
    n = 3;
  else if (c == 0xF0)
    n = 4, lo = 0x90;  // no overlong 4-byte forms
  else if (c == 0xF4)
    n = 4, hi = 0x8F;  // nothing above U+10FFFF
  else if (c >= 0xF1 && c <= 0xF3)
    n = 4;
  else
    return 0;
  if (i + n > s.size() || b(1) < lo || b(1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  return n;
}

void AppendHexByte(std::string* out, uint8_t v) {
  static const char kDigits[] = "0123456789abcdef";
  *out += kDigits[v >> 4];
  *out += kDigits[v & 15];
}

}  // namespace

bool IsUtf8(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    const size_t n = Utf8SequenceLength(bytes, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string Printable(std::string_view bytes, bool escape_backslash) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const uint8_t c = static_cast<uint8_t>(bytes[i]);
    const size_t n = Utf8SequenceLength(bytes, i);
    const bool c1 = n == 2 && c == 0xC2 && static_cast<uint8_t>(bytes[i + 1]) < 0xA0;  // U+0080..U+009F
    if (c == '\\' && escape_backslash) {
      out += "\\\\";
    } else if (n == 0 || c < 0x20 || c == 0x7F || c1) {
      for (size_t k = 0; k < (n ? n : 1); ++k) {
        out += "\\x";
        AppendHexByte(&out, static_cast<uint8_t>(bytes[i + k]));
      }
    } else {
      out.append(bytes.substr(i, n));
    }
    i += n ? n : 1;
  }
  return out;
}

std::string Utf8Lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    const size_t n = Utf8SequenceLength(bytes, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(bytes.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string HexBytes(std::string_view bytes) {
  std::string out;
  out.reserve(2 * bytes.size());
  for (char c : bytes) AppendHexByte(&out, static_cast<uint8_t>(c));
  return out;
}

}  // namespace sdc
