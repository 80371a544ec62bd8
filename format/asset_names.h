// Which asset names the format allows (spec §6). `sdcodec decode --assets-dir` writes each asset as a file
// of that name, so a name must be one path component that cannot leave the directory or surprise a shell
// or terminal: both decoders refuse other names when a file is opened, and the encoder refuses to write them.
#pragma once

#include <string>
#include <string_view>

namespace sdc {

constexpr size_t kMaxAssetNameBytes = 255;  // NAME_MAX on Linux, macOS and the BSDs

// Empty when `name` is a valid asset name: 1 to 255 bytes, not "." or "..", and no byte that is '/', '\\'
// or a control character (0x00..0x1F, 0x7F). Otherwise the reason, e.g. "contains '/'".
std::string AssetNameProblem(std::string_view name);

}  // namespace sdc
