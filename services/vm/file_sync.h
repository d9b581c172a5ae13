// [[file_sync]] (docs/configuration.md): the user's files copied into a VM's work disk at
// create and at every start. The config loader has already checked the paths: host paths
// are the user's own, guest paths lie under /root.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "banger/config.h"
#include "banger/ext4/file_editor.h"

namespace banger::vm {

// The path inside the work disk (mounted on /root) for a guest path "~/x" or "/root/x".
std::string workDiskPath(const std::string& guestPath);

// A file gets the entry's mode (0600 when it has none); a directory is copied whole, each
// file and directory with its own mode, symlinks as symlinks; everything is root's. A
// missing host path is reported through `warn` and skipped; anything else throws
// InvalidArgument or Failed naming the entry ("file_sync entry 2 (~/.gitconfig): …").
void syncFiles(ext4::FileEditor& editor, const std::vector<FileSyncEntry>& entries,
               const std::function<void(const std::string&)>& warn);

}  // namespace banger::vm
