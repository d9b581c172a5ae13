// Deciding what a workspace copy sends: the options, and what host git says of the tree.
#include <algorithm>
#include <optional>
#include <set>
#include <string_view>

#include "banger/errors.h"
#include "banger/text.h"
#include "git_status.h"
#include "workspace.h"

namespace banger::vm {
namespace fs = std::filesystem;
namespace {

constexpr const char* kUseFullCopy = "; copy it as it is with --mode full_copy";

std::vector<std::string> splitNul(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t end; (end = text.find('\0', start)) != std::string::npos; start = end + 1)
    if (end > start) out.push_back(text.substr(start, end - start));
  return out;
}

// Runs git in `root`; its stdout, or nullopt when it exits non-zero and `mayFail`.
std::optional<std::string> git(ProcessRunner& runner, const fs::path& root,
                               std::vector<std::string> args, bool mayFail = false) {
  args.insert(args.begin(), {"git", "-C", root.string()});
  Command command(std::move(args));
  // A listing must not write the user's index. (Built as a map, not assigned through
  // operator[]: GCC 12 at -O3 takes that assignment for an overlapping copy, PR 105329.)
  command.extraEnv = {{"GIT_OPTIONAL_LOCKS", "0"}};
  ProcessResult result;
  try {
    result = runner.run(command);
  } catch (const Error&) {
    fail(ErrorCode::Unavailable,
         "git is not installed on this machine; a workspace in overlay mode needs it "
         "(apt install git)" +
             std::string(kUseFullCopy));
  }
  if (result.ok()) return result.out;
  if (mayFail) return std::nullopt;
  fail(ErrorCode::Failed, "git " + command.argv[3] + " in " + root.string() +
                              " failed: " + withoutTrailingSpace(result.err));
}

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

void requireGuestPath(const std::string& path) {
  const fs::path p(path);
  bool tidy = p.is_absolute() && path != "/" && path.find('\n') == std::string::npos;
  for (const auto& part : p.relative_path())
    if (part == ".." || part == ".") tidy = false;
  if (!tidy)
    fail(ErrorCode::InvalidArgument,
         "options: guest_path '" + path +
             "' must be an absolute path below / without '.' or '..', e.g. /root/repo");
}

// Regular files and symlinks under `root`, relative and sorted: what full_copy sends.
std::vector<std::string> walk(const fs::path& root) {
  std::vector<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, ec), end;
  if (ec) fail(ErrorCode::InvalidArgument, "cannot read " + root.string() + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) fail(ErrorCode::Failed, "cannot read below " + root.string() + ": " + ec.message());
    const auto status = it->symlink_status();
    if (fs::is_regular_file(status) || fs::is_symlink(status))
      out.push_back(it->path().lexically_relative(root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Paths of gitlinks (submodules) in `ls-files --stage` or `ls-tree -r` output.
std::vector<std::string> submodules(const std::string& listing) {
  std::vector<std::string> out;
  for (const auto& entry : splitNul(listing))
    if (entry.rfind("160000 ", 0) == 0) out.push_back(entry.substr(entry.find('\t') + 1));
  return out;
}

// The work tree's top, its commit and its branch, from one git: each git costs a few
// milliseconds, and this is the usual case. nullopt when one of them is missing (no work
// tree, no commit yet): then each is asked on its own, for the error or the empty history.
struct Head {
  std::string top, commit, branch;
};
std::optional<Head> headOf(ProcessRunner& runner, const fs::path& path) {
  const auto out =
      git(runner, path,
          {"rev-parse", "--show-toplevel", "HEAD^{commit}", "--symbolic-full-name", "HEAD"}, true);
  if (!out) return std::nullopt;
  std::vector<std::string> lines;
  for (size_t start = 0, end; (end = out->find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(out->substr(start, end - start));
  if (lines.size() != 3 || lines[0].empty()) return std::nullopt;
  constexpr std::string_view kBranches = "refs/heads/";
  Head head{lines[0], lines[1], ""};
  if (lines[2].rfind(kBranches, 0) == 0) head.branch = lines[2].substr(kBranches.size());
  return head;
}

void planOverlay(ProcessRunner& runner, WorkspacePlan& plan, const std::optional<Head>& head) {
  const WorkspaceOptions& o = plan.options;
  const fs::path& root = plan.root;
  const std::string ref = o.from.empty() ? "HEAD" : o.from;
  if (head)
    plan.commit = head->commit;
  else if (auto commit =
               git(runner, root, {"rev-parse", "--verify", "-q", ref + "^{commit}"}, true))
    plan.commit = firstLine(*commit);
  else if (!o.from.empty())
    fail(ErrorCode::InvalidArgument,
         "options: from '" + o.from + "' is no commit of " + root.string());

  // One listing serves twice: its gitlinks and, without `from`, the index's paths.
  const std::string listing = o.from.empty()
                                  ? *git(runner, root, {"ls-files", "-z", "--stage"})
                                  : *git(runner, root, {"ls-tree", "-r", "-z", plan.commit});
  const auto gitlinks = submodules(listing);
  if (!gitlinks.empty())
    fail(ErrorCode::InvalidArgument, root.string() + " has submodules (" + gitlinks.front() +
                                         "), which overlay mode does not carry" + kUseFullCopy);

  if (!o.branch.empty()) {
    if (!git(runner, root, {"check-ref-format", "--branch", o.branch}, true))
      fail(ErrorCode::InvalidArgument, "options: branch '" + o.branch + "' is no branch name");
    plan.branch = o.branch;
  } else if (head) {
    plan.branch = head->branch;
  } else if (auto current = git(runner, root, {"symbolic-ref", "-q", "--short", "HEAD"}, true)) {
    plan.branch = firstLine(*current);
  }

  std::set<std::string> files;
  if (!o.from.empty()) {
    for (auto& f :
         splitNul(*git(runner, root, {"ls-tree", "-r", "-z", "--name-only", plan.commit})))
      files.insert(std::move(f));
    if (o.includeUntracked)
      for (auto& f :
           splitNul(*git(runner, root, {"ls-files", "-z", "--others", "--exclude-standard"}))) {
        plan.changed.push_back(f);
        files.insert(std::move(f));
      }
  } else {
    for (const auto& entry : splitNul(listing)) files.insert(entry.substr(entry.find('\t') + 1));
    // One status says what differs from the commit, in the index and in the tree.
    const auto status = parseGitStatus(
        *git(runner, root,
             {"status", "--porcelain=v2", "-z", "--no-renames",
              o.includeUntracked ? "--untracked-files=all" : "--untracked-files=no"}));
    for (const auto& entry : status) {
      if (entry.tree == '?') {
        plan.changed.push_back(entry.path);
        files.insert(entry.path);
      } else if (entry.tree == 'D') {  // in the index, gone from the tree
        plan.deleted.push_back(entry.path);
        files.erase(entry.path);
      } else if (entry.index == 'D') {  // in the commit, deleted from the index
        if (!plan.commit.empty() && !files.count(entry.path)) plan.deleted.push_back(entry.path);
      } else if (files.count(entry.path)) {
        plan.changed.push_back(entry.path);
      }
    }
    if (plan.commit.empty())  // no commit to lay them over: every file is sent
      plan.changed.assign(files.begin(), files.end());
  }
  plan.files.assign(files.begin(), files.end());
  std::sort(plan.changed.begin(), plan.changed.end());
  plan.changed.erase(std::unique(plan.changed.begin(), plan.changed.end()), plan.changed.end());
  std::sort(plan.deleted.begin(), plan.deleted.end());
}

}  // namespace

WorkspaceOptions WorkspaceOptions::parse(const VariantMap& input) {
  const Options parsed = Options::parse(input, {{"guest_path", "s"},
                                                {"mode", "s"},
                                                {"include_untracked", "b"},
                                                {"branch", "s"},
                                                {"from", "s"}});
  WorkspaceOptions o;
  o.guestPath = parsed.string("guest_path").value_or(o.guestPath);
  requireGuestPath(o.guestPath);
  const std::string mode = parsed.string("mode").value_or("overlay");
  if (mode == "full_copy")
    o.mode = WorkspaceMode::FullCopy;
  else if (mode != "overlay")
    fail(ErrorCode::InvalidArgument,
         "options: mode '" + mode + "' is neither overlay nor full_copy");
  o.includeUntracked = parsed.boolean("include_untracked").value_or(false);
  o.branch = parsed.string("branch").value_or("");
  o.from = parsed.string("from").value_or("");
  if (!o.from.empty() && o.branch.empty())
    fail(ErrorCode::InvalidArgument, "options: from needs branch: it is where the branch starts");
  if (o.mode == WorkspaceMode::FullCopy && (!o.branch.empty() || o.includeUntracked))
    fail(ErrorCode::InvalidArgument,
         std::string("options: ") + (o.branch.empty() ? "include_untracked" : "branch") +
             " applies to overlay mode; full_copy copies the directory as it is");
  return o;
}

WorkspacePlan planWorkspace(ProcessRunner& runner, const std::string& hostPath,
                            const WorkspaceOptions& options) {
  WorkspacePlan plan;
  plan.options = options;
  std::error_code ec;
  const fs::path path = fs::absolute(hostPath, ec);
  if (hostPath.empty() || !fs::is_directory(path, ec))
    fail(ErrorCode::InvalidArgument, "'" + hostPath + "' is no directory on this machine");
  if (options.mode == WorkspaceMode::FullCopy) {
    plan.root = path;
    plan.files = walk(path);
    return plan;
  }
  const std::optional<Head> head = options.from.empty() ? headOf(runner, path) : std::nullopt;
  const auto top = head ? std::optional<std::string>(head->top)
                        : git(runner, path, {"rev-parse", "--show-toplevel"}, true);
  if (!top || firstLine(*top).empty()) {
    // Asked only now: most paths are work trees, and each git costs a few milliseconds.
    if (auto bare = git(runner, path, {"rev-parse", "--is-bare-repository"}, true);
        bare && firstLine(*bare) == "true")
      fail(ErrorCode::InvalidArgument,
           path.string() +
               " is a bare repository: it has no working tree to copy; clone it "
               "and give the clone's path");
    fail(ErrorCode::InvalidArgument, path.string() + " is not a git work tree" + kUseFullCopy);
  }
  plan.root = firstLine(*top);
  planOverlay(runner, plan, head);
  return plan;
}

}  // namespace banger::vm
