#include "ssh_config_file.h"

#include <sys/stat.h>

#include "banger/files.h"

namespace banger::cli {
namespace fs = std::filesystem;
namespace {

// [begin, end) of the block in `content`, end past its last newline; npos when absent.
std::pair<size_t, size_t> findBlock(const std::string& content) {
  size_t begin = content.rfind(std::string(kIncludeBegin) + "\n", 0) == 0
                     ? 0
                     : content.find(std::string("\n") + kIncludeBegin + "\n");
  if (begin == std::string::npos) return {std::string::npos, std::string::npos};
  if (begin != 0) ++begin;  // past the newline that ends the line before
  const size_t endLine = content.find(std::string("\n") + kIncludeEnd, begin);
  if (endLine == std::string::npos) return {std::string::npos, std::string::npos};
  size_t end = endLine + 1 + std::string(kIncludeEnd).size();
  if (end < content.size() && content[end] == '\n') ++end;
  return {begin, end};
}

// A ~/.ssh/config kept as a symlink (dotfiles) is edited where it points, not replaced.
fs::path realFile(const fs::path& file) {
  std::error_code ec;
  return fs::is_symlink(file, ec) ? fs::canonical(file) : file;
}

unsigned modeOr(const fs::path& file, unsigned fallback) {
  struct stat st {};
  return stat(file.c_str(), &st) == 0 ? (st.st_mode & 07777) : fallback;
}

}  // namespace

std::string includeBlock(const fs::path& bangerConfig) {
  return std::string(kIncludeBegin) + "\nInclude \"" + bangerConfig.string() + "\"\n" +
         kIncludeEnd + "\n";
}

std::string withInclude(const std::string& content, const fs::path& bangerConfig) {
  const auto [begin, end] = findBlock(content);
  if (begin != std::string::npos)
    return content.substr(0, begin) + includeBlock(bangerConfig) + content.substr(end);
  return includeBlock(bangerConfig) + content;
}

std::string withoutInclude(const std::string& content) {
  const auto [begin, end] = findBlock(content);
  if (begin == std::string::npos) return content;
  return content.substr(0, begin) + content.substr(end);
}

std::string installInclude(const fs::path& linkOrFile, const fs::path& bangerConfig) {
  const fs::path userConfig = realFile(linkOrFile);
  const std::string before = readTextFileIfExists(userConfig).value_or("");
  const std::string after = withInclude(before, bangerConfig);
  if (after == before && fs::exists(userConfig)) return "already there";
  std::error_code ec;
  if (!fs::exists(userConfig.parent_path(), ec)) {
    fs::create_directories(userConfig.parent_path());
    fs::permissions(userConfig.parent_path(), fs::perms::owner_all);  // as ssh wants ~/.ssh
  }
  writeFileAtomically(userConfig, after, modeOr(userConfig, 0600));
  return "added";
}

std::string uninstallInclude(const fs::path& linkOrFile) {
  const fs::path userConfig = realFile(linkOrFile);
  const auto before = readTextFileIfExists(userConfig);
  if (!before) return "not there";
  const std::string after = withoutInclude(*before);
  if (after == *before) return "not there";
  writeFileAtomically(userConfig, after, modeOr(userConfig, 0600));
  return "removed";
}

}  // namespace banger::cli
