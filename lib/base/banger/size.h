// Human sizes: "8G", "512M", "8GiB", "1.5G" or plain bytes; binary units (G = GiB).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace banger {

std::optional<uint64_t> parseSize(std::string_view text);
// Shortest exact form: 8589934592 → "8G", 1536 MiB → "1536M".
std::string formatSize(uint64_t bytes);

}  // namespace banger
