// rANS: decoding arbitrary streams (byte 0: bit 0 the symbol width, bit 1 one or four interleaved states;
// bytes 1-3: declared raw size up to 2^20), and the round-trip property on the remaining bytes: encode,
// decode, same bytes; encoding is deterministic.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "encoder/enc_rans.h"
#include "format/rans_codec.h"
#include "format/rans_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const int width = (data[0] & 1) + 1, lanes = data[0] & 2 ? sdc::rans::kLanes : 1;
  const uint64_t raw_size = (data[1] | data[2] << 8 | (data[3] & 0x0f) << 16) & ~uint64_t(width - 1);
  std::span<const uint8_t> rest(data + 4, size - 4);
  std::vector<uint8_t> out;
  (void)sdc::RansDecodeExact(rest, width, lanes, raw_size, &out);

  std::span<const uint8_t> raw = rest.first(rest.size() - rest.size() % width);
  std::vector<uint8_t> stream = sdc::RansEncode(raw, width, lanes);
  if (stream != sdc::RansEncode(raw, width, lanes)) __builtin_trap();
  std::vector<uint8_t> back;
  if (!sdc::RansDecodeExact(stream, width, lanes, raw.size(), &back).ok() ||
      !std::equal(back.begin(), back.end(), raw.begin(), raw.end()))
    __builtin_trap();
  return 0;
}
