// Bytes compressed as kernels and Debian's archive compress them (gzip, xz, zstd, bzip2,
// lzma, lz4 — found from the magic bytes), inflated with libarchive's filters a chunk at
// a time, so a caller keeps only what it needs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "banger/errors.h"

namespace banger::image {

// Hands the inflated bytes to `chunk` as they come. Throws banger::Error(`onError`)
// "WHAT does not inflate: …" for a corrupt stream and "WHAT inflates past LIMIT_TEXT" once
// more than `limit` bytes came out.
void inflate(std::string_view compressed, std::uint64_t limit, const std::string& limitText,
             ErrorCode onError, const std::string& what,
             const std::function<void(std::string_view)>& chunk);

}  // namespace banger::image
