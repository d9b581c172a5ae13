// Carrying out a workspace plan: host git and tar piped into the guest (banger-agent's
// /exec, or ssh), one guest shell script per step.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <exception>
#include <thread>
#include <utility>

#include "banger/errors.h"
#include "banger/text.h"
#include "workspace.h"

namespace banger::vm {
namespace {

// Exit status of a guest script that found no git.
constexpr int kNoGitInGuest = 97;
constexpr int kPipeRoom = 1 << 20;
// The copy is made again at will, so git need not wait for the guest's disk (a flush in a
// Firecracker VM reaches the host's disk): about a third of index-pack's time. Only these
// two commands; the guest's own git keeps its defaults.
constexpr const char* kNoFsync = "-c core.fsync=none";

std::string joinNul(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += item + '\0';
  return out;
}

// A program on this machine whose stdout feeds a guest script: git pack-objects, tar.
struct HostStep {
  Command command;
  std::string err;  // what it wrote to stderr
  ProcessResult result;
  std::exception_ptr thrown;

  void run(ProcessRunner& runner, const std::atomic<bool>* cancel) {
    try {
      result = runner.stream(command, OutputSink::stderrInto(&err, 4096), cancel);
    } catch (...) {
      thrown = std::current_exception();
    }
  }
};

// Throws for a guest script that did not end well, naming `what` and what the guest said.
void check(const GuestRun& guest, const std::string& what) {
  if (guest.canceled) fail(ErrorCode::Canceled, what + " was canceled");
  if (guest.exitCode == kNoGitInGuest)
    fail(ErrorCode::NotSupported, withoutTrailingSpace(guest.err));
  if (!guest.ok())
    fail(ErrorCode::Failed, what + " failed in the guest (" +
                                (guest.termSignal ? "signal " + std::to_string(guest.termSignal)
                                                  : "status " + std::to_string(guest.exitCode)) +
                                "): " + withoutTrailingSpace(guest.err));
}

// Runs `producer` with its stdout piped into the guest `script`'s stdin, side by side.
void pipeInto(ProcessRunner& runner, HostStep& producer, GuestShell& shell,
              const std::string& script, const std::string& what, const std::atomic<bool>* cancel) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) fail(ErrorCode::Failed, what + ": pipe failed");
  // Room for the producer to run ahead while the guest side starts: a first login to a
  // fresh VM and packing a repository of loose objects take about as long, and side by side
  // they overlap. 1 MiB is what an unprivileged process may ask for; less is still fine.
  (void)fcntl(fds[1], F_SETPIPE_SZ, kPipeRoom);
  producer.command.stdoutFd = fds[1];
  std::thread writer([&] {
    producer.run(runner, cancel);
    close(fds[1]);  // the consumer sees the end once the producer is gone
  });
  GuestRun guest;
  std::exception_ptr guestThrew;
  try {
    guest = shell.run(script, fds[0], "", cancel);
  } catch (...) {
    guestThrew = std::current_exception();
  }
  close(fds[0]);  // a producer still writing to a consumer that ended gets EPIPE and ends
  writer.join();
  // A producer that failed on its own is the cause; one ended by SIGPIPE only saw the
  // consumer (the guest) end first, which then says why.
  if (producer.thrown) std::rethrow_exception(producer.thrown);
  const bool producerFailed = !producer.result.ok() && producer.result.termSignal != SIGPIPE;
  if (producerFailed || producer.result.canceled)
    fail(producer.result.canceled ? ErrorCode::Canceled : ErrorCode::Failed,
         what + ": " + producer.command.argv[0] + " on this machine " +
             (producer.result.canceled ? "was canceled"
                                       : "failed: " + withoutTrailingSpace(producer.err)));
  if (guestThrew) std::rethrow_exception(guestThrew);
  check(guest, what);
}

// rm only when there is something to remove: in a fresh VM there never is, and each
// program the script starts costs a few ms of the guest's CPU while it still boots.
std::string removeIfThere(const std::string& path) {
  const std::string p = shellQuote(path);
  return "{ { [ ! -e " + p + " ] && [ ! -L " + p + " ]; } || rm -rf -- " + p + "; }";
}

std::string enterFresh(const std::string& path) {
  const std::string p = shellQuote(path);
  return removeIfThere(path) + " && mkdir -p -- " + p + " && cd -- " + p;
}

// A fresh, empty repository at the guest path, entered; git init makes the directories.
std::string gitInit(const WorkspacePlan& plan) {
  const std::string path = shellQuote(plan.options.guestPath);
  return std::string(
             "command -v git >/dev/null 2>&1 || { echo 'the guest has no git, which a "
             "workspace in overlay mode needs: install git in the image, or copy with "
             "--mode full_copy' >&2; exit ") +
         std::to_string(kNoGitInGuest) + "; }; " + removeIfThere(plan.options.guestPath) +
         " && git init -q" + (plan.branch.empty() ? "" : " -b " + shellQuote(plan.branch)) + " " +
         path + " && cd -- " + path;
}

// The commit as a shallow repository in the guest, checked out.
void sendHistory(ProcessRunner& runner, const WorkspacePlan& plan, GuestShell& shell,
                 const std::atomic<bool>* cancel) {
  HostStep pack;
  // Deltas and compression cost more time than they save on a local link: loose objects
  // (the recent work) go stored, and packed ones are sent as they are packed.
  pack.command.argv = {"git",          "-C",     plan.root.string(), "-c", "pack.compression=0",
                       "pack-objects", "--revs", "--stdout",         "-q", "--window=0"};
  const std::string c = shellQuote(plan.commit);
  // One git checks the commit out from the fresh repository's unborn branch: reset makes
  // the branch asked for at the commit; checkout --detach leaves HEAD at the commit.
  const std::string checkOut = plan.branch.empty() ? " checkout -q --detach " : " reset -q --hard ";
  const std::string script = gitInit(plan) + " && git " + kNoFsync +
                             " index-pack --stdin >/dev/null && echo " + c + " > .git/shallow && " +
                             "git " + kNoFsync + checkOut + c;
  // For each loose object pack-objects allocates and frees a buffer larger than glibc's
  // heap trim threshold, and the heap shrinks and grows again every time: two thirds of
  // its time for 1,000 loose objects here (364 -> 82 ms). A higher threshold stops that.
  pack.command.extraEnv = {{"GLIBC_TUNABLES", "glibc.malloc.trim_threshold=4194304"}};
  // The commit, its trees and blobs: not its parents, as a shallow fetch asks for it.
  pack.command.stdinData = "--shallow " + plan.commit + "\n" + plan.commit + "\n";
  pipeInto(runner, pack, shell, script, "sending the history of " + plan.root.string(), cancel);
}

}  // namespace

void copyWorkspace(ProcessRunner& runner, const WorkspacePlan& plan, GuestShell& shell,
                   const std::function<void(const std::string&)>& stage,
                   const std::atomic<bool>* cancel) {
  const std::string path = shellQuote(plan.options.guestPath);
  std::string enter = "cd -- " + path;
  std::vector<std::string> files = plan.changed;
  if (plan.options.mode == WorkspaceMode::FullCopy) {
    enter = enterFresh(plan.options.guestPath);
    files = plan.files;
  } else if (plan.commit.empty()) {
    enter = gitInit(plan);  // no commit yet: an empty repository, every file sent
  } else {
    stage("history");
    sendHistory(runner, plan, shell, cancel);
    if (!plan.deleted.empty()) {
      stage("deletions");
      check(shell.run(enter + " && xargs -0 -r rm -f --", -1, joinNul(plan.deleted), cancel),
            "removing files deleted on this machine");
    }
    if (files.empty()) return;
  }
  stage("files");
  HostStep tar;
  tar.command.argv = {
      "tar",    "--create",       "--file=-",      "--directory=" + plan.root.string(),
      "--null", "--no-recursion", "--files-from=-"};
  tar.command.stdinData = joinNul(files);
  pipeInto(runner, tar, shell, enter + " && tar -x --no-same-owner -f -",
           "copying " + plan.root.string() + " to " + plan.options.guestPath, cancel);
}

}  // namespace banger::vm
