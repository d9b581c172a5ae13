// A repository copied into a running guest (Machine.PrepareWorkspace) and its dry run
// (ListWorkspaceFiles). docs/workspace.md has the user's side of it.
//
// overlay (default): the commit (HEAD, or `from`) travels as a git pack of that one commit
// and becomes a shallow repository in the guest, checked out; then what the working tree
// has that the commit has not is laid over it: changed and added tracked files (and
// untracked, not ignored ones with include_untracked) are sent, deleted ones removed. So
// uncommitted work arrives and the guest's `git status` shows it as the host's does.
// full_copy: the directory as it is, .git and submodules included.
//
// Everything streams: host git and tar write straight into the guest script's stdin
// (through banger-agent, or ssh); nothing whole is staged on the host.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "banger/options.h"
#include "banger/process.h"
#include "guest_shell.h"

namespace banger::vm {

enum class WorkspaceMode { Overlay, FullCopy };

struct WorkspaceOptions {
  std::string guestPath = "/root/repo";
  WorkspaceMode mode = WorkspaceMode::Overlay;
  bool includeUntracked = false;
  std::string branch;  // made in the guest only
  std::string from;    // the commit the branch starts at (needs branch)

  // The a{sv} of PrepareWorkspace and ListWorkspaceFiles; InvalidArgument names the key.
  static WorkspaceOptions parse(const VariantMap& options);
};

struct WorkspacePlan {
  std::filesystem::path root;  // the work tree's top, or the directory (full_copy)
  WorkspaceOptions options;
  std::vector<std::string> files;  // what the guest path holds afterwards, sorted
  // overlay only:
  std::string commit;                // shipped as the guest's history; "" before a first commit
  std::string branch;                // the guest's branch; "" for a detached HEAD
  std::vector<std::string> changed;  // sent over the commit's checkout
  std::vector<std::string> deleted;  // tracked, gone from the working tree
};

// Reads the repository (git on this machine) and decides what goes; nothing is sent.
// A bare repository, a directory that is no git work tree or one with submodules (overlay),
// or an unknown `from`: InvalidArgument saying what to do instead.
WorkspacePlan planWorkspace(ProcessRunner& runner, const std::string& hostPath,
                            const WorkspaceOptions& options);

// Carries out `plan`, one script per step run by `shell` in the guest (up to three: the
// history, the deletions, the files), each started while the host side of that step (git
// pack-objects, tar) already runs. `stage` is told what is under way. A failure names the
// step and what the guest said.
void copyWorkspace(ProcessRunner& runner, const WorkspacePlan& plan, GuestShell& shell,
                   const std::function<void(const std::string&)>& stage,
                   const std::atomic<bool>* cancel);

}  // namespace banger::vm
