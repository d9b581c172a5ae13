// Turning a path found in a tar entry into the components of a path inside the image.
// The writer never touches the host's filesystem, so nothing here can escape onto the
// host; these rules keep the image's own tree well-formed and refuse what a hostile
// layer would use to confuse it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace banger::ext4 {

inline constexpr std::size_t kMaxNameBytes = 255;      // one ext4 directory entry
inline constexpr std::size_t kMaxPathBytes = 4096;     // PATH_MAX
inline constexpr std::size_t kMaxSymlinkBytes = 4095;  // one block minus the NUL

// The components of `path` with leading '/', "./", repeated and trailing '/' and "."
// components removed; an empty result is the root. Returns an explanation instead
// (through `problem`) for a ".." component, a NUL byte, a component over 255 bytes or a
// path over 4096 bytes.
bool splitEntryPath(std::string_view path, std::vector<std::string_view>& components,
                    std::string& problem);

// As splitEntryPath, throwing InvalidArgument that names `what` and the path.
std::vector<std::string_view> requireEntryPath(std::string_view path, std::string_view what);

// Components joined with '/', for messages and keys.
std::string joinPath(const std::vector<std::string_view>& components);

}  // namespace banger::ext4
