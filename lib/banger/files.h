// Reading small text files (configuration) the same way everywhere.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace banger {

// The file's text; nullopt when it does not exist. Throws banger::Error(Failed) when it
// exists but cannot be read.
std::optional<std::string> readTextFileIfExists(const std::filesystem::path& file);

}  // namespace banger
