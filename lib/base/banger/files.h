// Reading small text files (configuration) the same way everywhere, finding programs, and
// removing trees safely.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace banger {

// The file's text; nullopt when it does not exist. Throws banger::Error(Failed) when it
// exists but cannot be read.
std::optional<std::string> readTextFileIfExists(const std::filesystem::path& file);

// Whether a file written must survive a power loss once written: files banger can make
// again from what it keeps elsewhere (the ssh_config and known_hosts it regenerates, an
// emptied console log) skip the fsync, which is most of the cost of writing them.
enum class Durability { Synced, Regenerable };

// Writes `content` to a temporary name beside `file` with `mode`, fsyncs (when Synced) and
// renames it over `file` (DESIGN §4): a reader sees the old file or the new one, never half
// of it. Throws banger::Error(Failed) naming the file.
void writeFileAtomically(const std::filesystem::path& file, std::string_view content, unsigned mode,
                         Durability durability = Durability::Synced);

// Removes `path` and everything under it without crossing into another filesystem: a
// directory something is mounted on (say a /proc or /dev an interrupted chroot tool left
// mounted) is left in place with its parents, never emptied through the mount. Returns
// the mount points it left; other failures are left too and logged.
std::vector<std::filesystem::path> removeTreeOnThisFilesystem(const std::filesystem::path& path);

// Looks `program` up like execvp does; empty when not found or not executable.
std::string findExecutable(const std::string& program, const std::string& pathVariable);

}  // namespace banger
