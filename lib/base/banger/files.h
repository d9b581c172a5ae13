// Reading small text files (configuration) the same way everywhere, and finding programs.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace banger {

// The file's text; nullopt when it does not exist. Throws banger::Error(Failed) when it
// exists but cannot be read.
std::optional<std::string> readTextFileIfExists(const std::filesystem::path& file);

// Looks `program` up like execvp does; empty when not found or not executable.
std::string findExecutable(const std::string& program, const std::string& pathVariable);

}  // namespace banger
