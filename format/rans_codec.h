// Static order-0 rANS as a section codec: codecs Rans8 and Rans16 with one 64-bit state, and (format 1.1)
// Rans8x4 and Rans16x4 with four interleaved ones, whose dependency chains a decoder overlaps; 32-bit words.
// The text below is normative and quoted verbatim in spec/format.md §5.1 (tests/python/test_spec.py keeps them equal).
//
// STREAM FORMAT. The data are n = raw_size / B symbols, B = symbol_bytes (1 or 2), each a little-endian
// unsigned integer < A = 2^(8B), coded on L interleaved states (lanes): L = 1 for codecs Rans8 (B = 1)
// and Rans16 (B = 2), L = 4 for Rans8x4 (B = 1) and Rans16x4 (B = 2). raw_size must be a multiple of B.
//
//   n == 0: the stream is empty (0 bytes).
//   otherwise, in order:
//   u8      P, the probability precision (total M = 2^P): P <= min(24, ceil(log2 n) + 1).
//   table   a bit string, packed LSB first into bytes (bit j of the string is bit j%8 of byte j/8; a
//           field's bits go least significant first) and zero-padded to a whole byte, holding
//           S - 1 in 8B bits, where S = number of distinct symbols present: 1 <= S <= min(n, 2^P);
//           S values  g_0 = s_0, g_i = s_i - s_{i-1} - 1: the present symbols s_0 < ... < s_{S-1} < A;
//           S-1 values f_i - 1 for i = 0..S-2 (frequencies f_i >= 1); f_{S-1} = M - (f_0 + ... + f_{S-2})
//           must be >= 1. Cumulative c_i = f_0 + ... + f_{i-1}.
//           The gaps, then the frequencies, are each coded with their own adaptive Rice model R(sum, count,
//           width): gaps R((A - S) div S, 1, 8B), frequencies R((M - S) div S, 1, P). For each value v:
//             k = the smallest k in [0, 24] with (count << k) >= sum   (24 if none);
//             if v >> k < 12: (v >> k) one bits, a zero bit, then the k low bits of v;
//             else: 12 one bits, then v in `width` bits; such an escape with v >> k < 12 is invalid;
//             then sum += v, count += 1, and if count == 16: sum = sum >> 1, count = 8.
//   If S == 1 the stream ends here, whatever L: every symbol is s_0 (a one-symbol rANS never changes its
//   state).
//   u64 LE  x_0, ..., x_{L-1}, the lanes' initial states: 2^31 <= x_j < 2^63.
//   u32 LE  words w_0, w_1, ... to the end of the stream (the stream length after the states is a
//           multiple of 4).
//
// DECODING, for k = 0, 1, ..., n-1, with x the state of symbol k's lane, x_{k mod L}:
//                      slot = x mod M;  find i with c_i <= slot < c_i + f_i;  output s_i;
//                      x = f_i * (x >> P) + slot - c_i;
//                      if x < 2^31: x = (x << 32) | next word (its absence is an error).
//   The words form one sequence, read in this order whichever lane asks. Every state stays in
//   [2^31, 2^63) after each step. At the end every x_j must equal 2^31 and every word not consumed must
//   be 0 (padding, see below): so corruption is caught, not decoded into something else.
//
// ENCODING (informative: any encoder whose output decodes is valid; ours is deterministic). Symbols are
// coded in reverse order, k = n-1 down to 0, each on its lane's state x = x_{k mod L}, every state
// starting at 2^31:  if x >= f_i * 2^(63-P): emit the word x mod 2^32, x = x >> 32;
// then x = (x div f_i) * M + (x mod f_i) + c_i.  The words are stored in reverse order of emission (the
// last emitted is w_0), then zero words pad the count to the bound
//   W = floor( sum over present symbols of count_i * (P*2^32 - lg(f_i) + 3*(M - f_i)) / 2^37 )
// where lg(f) <= log2(f) * 2^32 is: k = floor(log2 f), y = f << (31 - k); 32 times: y = (y*y) >> 31
// (64-bit), then if y >= 2^32: y = y >> 1 and the next bit is 1, else 0; lg = k * 2^32 + those 32 bits,
// first one most significant.
// Each step raises log2(x) of its lane by at most log2(M/f) + (M-f)/(2^31 ln 2) bits and each word takes
// 32 off, so the lanes together never emit more than W words; padding to W makes the size a function of
// the histogram and L, which is what RansEncodedSize computes. Our encoder uses L = 4 from n = 2^18
// symbols on (24 bytes more than L = 1: at most 0.04 % of such a stream at 2 bits a symbol), else L = 1,
// and prices P from min(24, ceil(log2 n) + 1) down to ceil(log2 S), stopping after two in a row fail to
// improve, and keeps the smallest stream; at each P it quantizes counts by rounding, then moves the
// rounding error one unit at a time where it costs least.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "format/status.h"

namespace sdc {

// The decoder half (the encoder half is encoder/enc_rans.h). Produces exactly raw_size bytes or fails with
// kCorrupt naming the fault. Never reads out of bounds; its time is O(raw_size + alphabet) (raw_size must
// already have been checked against limits), and it allocates raw_size bytes only once the stream has been
// shown to hold them (SizeIsVouched, format/limits.h).
// `lanes`: 1 (Rans8, Rans16) or rans::kLanes (Rans8x4, Rans16x4).
Status RansDecodeExact(std::span<const uint8_t> stored, int symbol_bytes, int lanes, uint64_t raw_size,
                       std::vector<uint8_t>* out);

}  // namespace sdc
