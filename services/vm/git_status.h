// What `git status --porcelain=v2 -z --no-renames` says of a work tree: the workspace plan's
// one reading of what differs from the commit. The paths are the repository's own names,
// any bytes but NUL, so this parser is fuzzed (tests/fuzz/fuzz_git_status.cpp).
#pragma once

#include <string>
#include <vector>

namespace banger::vm {

struct GitStatusEntry {
  char index = '.';  // the index against the commit (X); '?' for untracked
  char tree = '.';   // the working tree against the index (Y); '?' for untracked
  std::string path;  // relative to the top of the work tree, never empty
};

// Ordinary ("1"), unmerged ("u") and untracked ("?") entries, in git's order; anything else
// (headers, ignored entries, a record too short to hold a path) is skipped.
std::vector<GitStatusEntry> parseGitStatus(const std::string& text);

}  // namespace banger::vm
