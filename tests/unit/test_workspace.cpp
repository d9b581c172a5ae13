// Workspaces without a VM: real git repositories, and the copy carried out by a local
// shell in place of ssh, into a directory standing for the guest path. What arrives must
// be exactly the dry run's list, with modes, symlinks and uncommitted work.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <functional>

#include "banger/errors.h"
#include "banger/files.h"
#include "harness.h"
#include "workspace.h"

namespace banger::vm {
namespace {

namespace fs = std::filesystem;

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

void sh(const std::string& command) {
  const test::Shell result = test::shell(command + " 2>&1");
  ASSERT_EQ(result.status, 0) << command << "\n" << result.out;
}

std::string read(const fs::path& p) { return readTextFileIfExists(p).value_or("<missing>"); }

// `work` must throw banger::Error with `code` and a message holding each of `saying`.
void expectError(const std::function<void()>& work, ErrorCode code,
                 const std::vector<std::string>& saying, const std::string& what) {
  try {
    work();
    ADD_FAILURE() << what;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    for (const auto& words : saying)
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

// A repository with three commits on `main`, then uncommitted work of every kind.
class Repo {
 public:
  Repo() {
    sh("cd " + q(root()) +
       " && git init -q -b main && git config user.email t@t && git config user.name t"
       " && echo one > a.txt && mkdir -p src && echo 'int x;' > src/x.c"
       " && printf 'build/\\n*.log\\n' > .gitignore && git add . && git commit -qm first"
       " && echo two > b.txt && printf '#!/bin/sh\\necho hi\\n' > run.sh && chmod +x run.sh"
       " && ln -s a.txt link && echo gone > doomed.txt && git add . && git commit -qm second"
       " && echo three > c.txt && git add . && git commit -qm third");
  }
  fs::path root() const { return dir_.path(); }
  void dirty() {
    sh("cd " + q(root()) +
       " && echo edited > a.txt && echo new > new.txt && git add new.txt && rm doomed.txt"
       " && echo scratch > untracked.txt && mkdir -p build && echo obj > build/out.o"
       " && echo noise > debug.log");
  }

 private:
  test::TempDir dir_;
};

// Files and symlinks below `root`, relative and sorted, without `skip`.
std::vector<std::string> filesBelow(const fs::path& root, const std::string& skip = ".git") {
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->path().filename() == skip) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file() || it->is_symlink())
      out.push_back(it->path().lexically_relative(root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

SystemProcessRunner runner;
const std::vector<std::string> kLocalShell = {"sh", "-c"};

WorkspaceOptions into(const fs::path& guest) {
  WorkspaceOptions o;
  o.guestPath = guest.string();
  return o;
}

void copy(const WorkspacePlan& plan) {
  CommandGuestShell local(runner, kLocalShell);
  copyWorkspace(
      runner, plan, local, [](const std::string&) {}, nullptr);
}

std::string inGuest(const fs::path& guest, const std::string& command) {
  return test::shell("cd " + q(guest) + " && " + command + " 2>&1").out;
}

TEST(Workspace, OverlayCarriesUncommittedWorkAndNothingUntrackedOrIgnored) {
  Repo repo;
  repo.dirty();
  test::TempDir guestDir;
  const fs::path guest = guestDir.path() / "repo";
  const WorkspacePlan plan = planWorkspace(runner, repo.root().string(), into(guest));
  const std::vector<std::string> expected = {".gitignore", "a.txt",   "b.txt",  "c.txt",
                                             "link",       "new.txt", "run.sh", "src/x.c"};
  EXPECT_EQ(plan.files, expected);
  EXPECT_EQ(plan.branch, "main");

  copy(plan);
  EXPECT_EQ(filesBelow(guest), plan.files) << "the dry run must list exactly what arrives";
  EXPECT_EQ(read(guest / "a.txt"), "edited\n");
  EXPECT_EQ(read(guest / "new.txt"), "new\n");
  EXPECT_FALSE(fs::exists(guest / "doomed.txt"));
  EXPECT_EQ(fs::read_symlink(guest / "link"), "a.txt");
  struct stat st {};
  ASSERT_EQ(stat((guest / "run.sh").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  // The guest's git sees one (shallow) commit on main and the host's uncommitted work.
  EXPECT_EQ(inGuest(guest, "git log --format=%s"), "third\n");
  EXPECT_EQ(inGuest(guest, "git rev-parse --abbrev-ref HEAD"), "main\n");
  EXPECT_EQ(inGuest(guest, "git rev-parse --is-shallow-repository"), "true\n");
  EXPECT_EQ(inGuest(guest, "git status --porcelain"), " M a.txt\n D doomed.txt\n?? new.txt\n");
  EXPECT_EQ(inGuest(guest, "git fsck --no-dangling --no-progress && echo fine"), "fine\n");
}

// The wait for the Vm service's first login (the master connection) comes once, before
// any of the three guest sessions (history, deletions, files) has touched the guest.
TEST(Workspace, TheWaitForTheLoginComesOnceBeforeTheGuestIsTouched) {
  Repo repo;
  repo.dirty();
  test::TempDir guestDir;
  const fs::path guest = guestDir.path() / "repo";
  const WorkspacePlan plan = planWorkspace(runner, repo.root().string(), into(guest));
  ASSERT_FALSE(plan.deleted.empty());
  ASSERT_FALSE(plan.changed.empty());
  int waits = 0;
  bool guestUntouched = false;
  CommandGuestShell local(runner, kLocalShell, [&] {
    ++waits;
    guestUntouched = !fs::exists(guest);
  });
  copyWorkspace(
      runner, plan, local, [](const std::string&) {}, nullptr);
  EXPECT_EQ(waits, 1);
  EXPECT_TRUE(guestUntouched);
  EXPECT_EQ(filesBelow(guest), plan.files);
}

TEST(Workspace, IncludeUntrackedAddsUntrackedFilesButNeverIgnoredOnes) {
  Repo repo;
  repo.dirty();
  test::TempDir guestDir;
  WorkspaceOptions o = into(guestDir.path() / "repo");
  o.includeUntracked = true;
  const WorkspacePlan plan = planWorkspace(runner, repo.root().string(), o);
  EXPECT_NE(std::find(plan.files.begin(), plan.files.end(), "untracked.txt"), plan.files.end());
  copy(plan);
  EXPECT_EQ(filesBelow(guestDir.path() / "repo"), plan.files);
  EXPECT_EQ(read(guestDir.path() / "repo/untracked.txt"), "scratch\n");
  EXPECT_FALSE(fs::exists(guestDir.path() / "repo/build"));
  EXPECT_FALSE(fs::exists(guestDir.path() / "repo/debug.log"));
}

TEST(Workspace, ABranchFromAnEarlierCommitIsThatCommitInTheGuestOnly) {
  Repo repo;
  repo.dirty();
  test::TempDir guestDir;
  const fs::path guest = guestDir.path() / "repo";
  WorkspaceOptions o = into(guest);
  o.branch = "feature";
  o.from = "HEAD~1";
  const WorkspacePlan plan = planWorkspace(runner, repo.root().string(), o);
  copy(plan);
  EXPECT_EQ(inGuest(guest, "git rev-parse --abbrev-ref HEAD"), "feature\n");
  EXPECT_EQ(inGuest(guest, "git log --format=%s"), "second\n");
  EXPECT_EQ(inGuest(guest, "git status --porcelain"), "");
  EXPECT_EQ(read(guest / "a.txt"), "one\n");
  EXPECT_FALSE(fs::exists(guest / "c.txt"));
  EXPECT_EQ(filesBelow(guest), plan.files);
  EXPECT_EQ(test::shell("git -C " + q(repo.root()) + " branch --list feature").out, "")
      << "the branch is made in the guest only";
}

// What `git status` reports in its less common forms: a deletion staged with `git rm`, a
// rename, a name with spaces, a path given below the top, and a detached HEAD.
TEST(Workspace, StagedDeletionsRenamesAndADetachedHeadArriveAsOnTheHost) {
  Repo repo;
  sh("cd " + q(repo.root()) +
     " && git checkout -q --detach && git rm -q b.txt && git mv c.txt 'with space.txt'"
     " && echo spaced >> 'with space.txt' && echo unstaged > 'src/new file.c'"
     " && git add -N 'src/new file.c'");
  test::TempDir guestDir;
  const fs::path guest = guestDir.path() / "repo";
  const WorkspacePlan plan = planWorkspace(runner, (repo.root() / "src").string(), into(guest));
  EXPECT_EQ(plan.root, repo.root());
  EXPECT_EQ(plan.branch, "");
  const std::vector<std::string> expected = {".gitignore", "a.txt",         "doomed.txt",
                                             "link",       "run.sh",        "src/new file.c",
                                             "src/x.c",    "with space.txt"};
  EXPECT_EQ(plan.files, expected);
  copy(plan);
  EXPECT_EQ(filesBelow(guest), plan.files) << "the dry run must list exactly what arrives";
  EXPECT_EQ(read(guest / "with space.txt"), "three\nspaced\n");
  EXPECT_EQ(read(guest / "src/new file.c"), "unstaged\n");
  EXPECT_EQ(inGuest(guest, "git log --format=%s"), "third\n");
  EXPECT_EQ(inGuest(guest, "git symbolic-ref -q HEAD || echo detached"), "detached\n");
}

TEST(Workspace, ASecondCopyReplacesTheFirst) {
  Repo repo;
  test::TempDir guestDir;
  const fs::path guest = guestDir.path() / "repo";
  copy(planWorkspace(runner, repo.root().string(), into(guest)));
  sh("touch " + q(guest / "left-over"));
  repo.dirty();
  copy(planWorkspace(runner, repo.root().string(), into(guest)));
  EXPECT_FALSE(fs::exists(guest / "left-over"));
  EXPECT_EQ(read(guest / "a.txt"), "edited\n");
}

TEST(Workspace, ARepositoryWithoutCommitsArrivesAsItsIndex) {
  test::TempDir host, guestDir;
  sh("cd " + q(host.path()) + " && git init -q -b trunk && echo x > x && git add x");
  const fs::path guest = guestDir.path() / "repo";
  const WorkspacePlan plan = planWorkspace(runner, host.path().string(), into(guest));
  EXPECT_TRUE(plan.commit.empty());
  copy(plan);
  EXPECT_EQ(filesBelow(guest), std::vector<std::string>{"x"});
  EXPECT_EQ(inGuest(guest, "git symbolic-ref --short HEAD"), "trunk\n");
}

TEST(Workspace, FullCopyTakesTheDirectoryAsItIsSubmodulesIncluded) {
  Repo repo;
  test::TempDir sub, guestDir;
  sh("cd " + q(sub.path()) +
     " && git init -q && git config user.email t@t && git config user.name t && echo s > s.txt"
     " && git add . && git commit -qm s");
  sh("cd " + q(repo.root()) + " && git -c protocol.file.allow=always submodule add -q " +
     q(sub.path()) + " vendor/sub && git commit -qm sub");

  WorkspaceOptions overlay = into(guestDir.path() / "repo");
  expectError([&] { planWorkspace(runner, repo.root().string(), overlay); },
              ErrorCode::InvalidArgument, {"vendor/sub", "--mode full_copy"},
              "overlay mode must refuse submodules");

  WorkspaceOptions full = overlay;
  full.mode = WorkspaceMode::FullCopy;
  const WorkspacePlan plan = planWorkspace(runner, repo.root().string(), full);
  copy(plan);
  EXPECT_EQ(filesBelow(guestDir.path() / "repo", ""), plan.files);
  EXPECT_EQ(read(guestDir.path() / "repo/vendor/sub/s.txt"), "s\n");
  EXPECT_TRUE(fs::exists(guestDir.path() / "repo/.git/HEAD"));
}

void expectRefused(const std::string& hostPath, const WorkspaceOptions& o,
                   const std::string& saying) {
  expectError([&] { planWorkspace(runner, hostPath, o); }, ErrorCode::InvalidArgument, {saying},
              hostPath + " was not refused");
}

TEST(Workspace, WhatOverlayCannotCopyIsRefusedSayingWhatToDo) {
  test::TempDir plain, bare, guestDir;
  const WorkspaceOptions o = into(guestDir.path() / "repo");
  expectRefused(plain.path().string(), o,
                "not a git work tree; copy it as it is with --mode full_copy");
  sh("git init -q --bare " + q(bare.path()));
  expectRefused(bare.path().string(), o, "is a bare repository");
  expectRefused((plain.path() / "nothing").string(), o, "is no directory");
  Repo repo;
  WorkspaceOptions unknownFrom = o;
  unknownFrom.branch = "b";
  unknownFrom.from = "no-such-ref";
  expectRefused(repo.root().string(), unknownFrom, "from 'no-such-ref' is no commit");
  WorkspaceOptions badBranch = o;
  badBranch.branch = "two words";
  expectRefused(repo.root().string(), badBranch, "is no branch name");
  EXPECT_FALSE(fs::exists(guestDir.path() / "repo"));
}

TEST(Workspace, OptionsAreCheckedNamingTheKey) {
  const auto refused = [](const VariantMap& options, const std::string& saying) {
    expectError([&] { WorkspaceOptions::parse(options); }, ErrorCode::InvalidArgument, {saying},
                saying);
  };
  refused({{"mode", sdbus::Variant(std::string("rsync"))}}, "mode 'rsync'");
  refused({{"from", sdbus::Variant(std::string("HEAD~1"))}}, "from needs branch");
  refused({{"guest_path", sdbus::Variant(std::string("repo"))}}, "guest_path 'repo'");
  refused({{"guest_path", sdbus::Variant(std::string("/root/../etc"))}}, "guest_path");
  refused({{"guest_path", sdbus::Variant(std::string("/"))}}, "guest_path '/'");
  refused({{"mode", sdbus::Variant(std::string("full_copy"))},
           {"branch", sdbus::Variant(std::string("b"))}},
          "branch applies to overlay mode");
  refused({{"colour", sdbus::Variant(std::string("red"))}}, "colour");
  refused({{"include_untracked", sdbus::Variant(std::string("yes"))}}, "include_untracked");
  const WorkspaceOptions defaults = WorkspaceOptions::parse({});
  EXPECT_EQ(defaults.guestPath, "/root/repo");
  EXPECT_EQ(defaults.mode, WorkspaceMode::Overlay);
}

TEST(Workspace, AGuestThatFailsIsAnErrorNamingTheStepAndWhatItSaid) {
  Repo repo;
  repo.dirty();
  test::TempDir guestDir;
  const WorkspacePlan plan = planWorkspace(runner, repo.root().string(), into(guestDir.path()));
  const std::vector<std::string> failing = {"sh", "-c", "echo 'disk full' >&2; exit 4", "sh"};
  expectError(
      [&] {
        CommandGuestShell shell(runner, failing);
        copyWorkspace(
            runner, plan, shell, [](const std::string&) {}, nullptr);
      },
      ErrorCode::Failed, {"sending the history", "disk full"},
      "a failing guest was taken for a copy");
  // A file gone between the plan and the copy: tar on this machine is the cause, not the
  // guest that saw its stream end early.
  test::TempDir guestCopy;
  WorkspacePlan vanishing =
      planWorkspace(runner, repo.root().string(), into(guestCopy.path() / "r"));
  fs::remove(repo.root() / "new.txt");
  expectError([&] { copy(vanishing); }, ErrorCode::Failed,
              {"tar on this machine failed", "new.txt"},
              "a copy missing a file was taken for a copy");
  // A guest without git: overlay says how to do without.
  const std::vector<std::string> noGit = {"env", "PATH=/nonexistent", "/bin/sh", "-c"};
  expectError(
      [&] {
        CommandGuestShell shell(runner, noGit);
        copyWorkspace(
            runner, plan, shell, [](const std::string&) {}, nullptr);
      },
      ErrorCode::NotSupported, {"--mode full_copy"}, "a guest without git was taken for a copy");
}

}  // namespace
}  // namespace banger::vm
