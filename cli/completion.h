// Shell completion scripts generated from the command tree itself, so they never drift.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace banger::cli {

// shell: "bash", "zsh" or "fish".
std::string completionScript(const CLI::App& app, const std::string& shell);

}  // namespace banger::cli
