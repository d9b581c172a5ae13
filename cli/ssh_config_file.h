// `banger ssh-config --install|--uninstall`: one marker-fenced Include of banger's own
// ssh_config at the top of ~/.ssh/config, so plain `ssh NAME.vm` works from any terminal.
// At the top because an Include below a Host line would only apply inside that block.
// Only the CLI, run by the user, writes here; the services never touch ~/.ssh/config.
#pragma once

#include <filesystem>
#include <string>

namespace banger::cli {

inline constexpr const char* kIncludeBegin = "# >>> banger: ssh NAME.vm (banger ssh-config) >>>";
inline constexpr const char* kIncludeEnd = "# <<< banger <<<";

// The block for `bangerConfig`, three lines.
std::string includeBlock(const std::filesystem::path& bangerConfig);
// `content` with the block at its top: an existing block is replaced in place, so running
// it twice changes nothing.
std::string withInclude(const std::string& content, const std::filesystem::path& bangerConfig);
// `content` without the block, every other byte as it was.
std::string withoutInclude(const std::string& content);

// What each did: "added", "already there", "removed", "not there".
std::string installInclude(const std::filesystem::path& userConfig,
                           const std::filesystem::path& bangerConfig);
std::string uninstallInclude(const std::filesystem::path& userConfig);

}  // namespace banger::cli
