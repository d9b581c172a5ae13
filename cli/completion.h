// Shell completion scripts generated from the command tree itself, so they never drift.
#pragma once

#include <sdbus-c++/sdbus-c++.h>
#include <CLI/CLI.hpp>
#include <ostream>
#include <string>

namespace banger::cli {

// shell: "bash", "zsh" or "fish".
std::string completionScript(const CLI::App& app, const std::string& shell);

// `banger __complete vm|image|kernel`, what the scripts call: the names of live machines,
// images or kernels, one a line. Asked only of a service that already runs, by its unique
// bus name, so completing never starts one; nothing at all when there is no bus or
// service.
void printLiveNames(sdbus::IConnection& bus, const std::string& kind, std::ostream& out);

}  // namespace banger::cli
