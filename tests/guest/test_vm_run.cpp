// `banger vm run` end to end in the guest simulator: the repository arrives (uncommitted
// work included, ignored files never), the command's output streams and its status is
// banger's, --rm leaves nothing, and the ways a run ends early (usage errors, a guest that
// never answers, Ctrl-C) do what the user was told they do.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>

#include "vm_lifecycle_fixture.h"

namespace banger::test {
namespace {

// A repository whose `make test` prints a line and fails with 3, with two commits and
// uncommitted work of each kind.
fs::path makeRepository(const fs::path& root) {
  const fs::path repo = root / "repo";
  fs::create_directories(repo);
  const std::string q = "'" + repo.string() + "'";
  const Shell made = shell(
      "cd " + q +
      " && git init -q -b main && git config user.email t@t && git config user.name t"
      " && printf 'test:\\n\\t@echo tests ran in $$(pwd)\\n\\t@exit 3\\n' > Makefile"
      " && echo old > notes.txt && printf 'secret.env\\n' > .gitignore && git add ."
      " && git commit -qm first && echo v2 > notes.txt && printf '#!/bin/sh\\necho tool\\n' > "
      "tool.sh"
      " && chmod +x tool.sh && ln -s notes.txt notes.link && git add . && git commit -qm second"
      " && echo uncommitted > notes.txt && echo added > added.txt && git add added.txt"
      " && echo scratch > untracked.txt && echo hush > secret.env 2>&1");
  EXPECT_EQ(made.status, 0) << made.out;
  return repo;
}

size_t machineCount(sdbus::IProxy& manager) {
  std::vector<sdbus::Struct<std::string, std::string, sdbus::ObjectPath>> machines;
  manager.callMethod("ListMachines").onInterface("org.banger.Vm1.Manager").storeResultsTo(machines);
  return machines.size();
}

TEST_F(VmLifecycle, VmRunCopiesTheRepositoryRunsTheCommandAndPassesItsStatusBack) {
  const fs::path repo = makeRepository(harness_->root());
  const auto leasesBefore = leasedIds().size();
  // make ends with 2 when a recipe fails (here with 3): make's status is banger's.
  Shell r = banger("vm run '" + repo.string() + "' --name run-make --rm -- make test");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(r.out.rfind("spec: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("tests ran in /root/repo"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("run-make deleted"), std::string::npos) << r.out;
  EXPECT_FALSE(exists("run-make"));
  EXPECT_EQ(leasedIds().size(), leasesBefore);

  // Without --rm the machine stays, and the workspace is what the dry run lists; the
  // config's [[file_sync]] entries arrive as with any create.
  const fs::path config = harness_->root() / "config" / "config.toml";
  const std::string before = readFile(config);
  writeFile(harness_->root() / "home" / "gitconfig", "[user]\n\tname = Runner\n");
  writeFile(config, before + "\n[[file_sync]]\nhost = \"" +
                        (harness_->root() / "home" / "gitconfig").string() +
                        "\"\nguest = \"~/.gitconfig\"\n");
  r = banger("vm run '" + repo.string() +
             "' --name run-keep -- sh -c 'git status --porcelain; cat notes.txt; "
             "git log --format=%s; ./tool.sh; readlink notes.link; git config user.name'");
  writeFile(config, before);
  EXPECT_NE(r.out.find("Runner"), std::string::npos) << r.out;
  EXPECT_EQ(r.status, 0) << r.out;
  for (const char* expected :
       {" M notes.txt", "?? added.txt", "uncommitted", "second", "tool", "notes.txt\n"})
    EXPECT_NE(r.out.find(expected), std::string::npos) << expected << " in\n" << r.out;
  EXPECT_EQ(r.out.find("first"), std::string::npos) << "the history is shallow:\n" << r.out;
  EXPECT_EQ(r.out.find("untracked.txt"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("secret.env"), std::string::npos) << r.out;
  const Shell listed = banger("vm workspace prepare run-keep '" + repo.string() + "' --dry-run");
  EXPECT_EQ(listed.out, ".gitignore\nMakefile\nadded.txt\nnotes.link\nnotes.txt\ntool.sh\n");
  const Shell inGuest = ssh("run-keep.vm",
                            "cd /root/repo && find . -path ./.git -prune -o "
                            "\\( -type f -o -type l \\) -print | sed s,^./,, | sort");
  EXPECT_EQ(inGuest.out, listed.out) << "the dry run must list exactly what was copied";

  // Untracked files on request, ignored ones never; a second copy replaces the first.
  r = banger("vm workspace prepare run-keep '" + repo.string() + "' --include-untracked");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(ssh("run-keep.vm", "cat /root/repo/untracked.txt").out, "scratch\n");
  EXPECT_NE(ssh("run-keep.vm", "ls /root/repo/secret.env").status, 0);
  EXPECT_EQ(banger("vm delete run-keep").status, 0);

  // A branch of the guest's own, at an earlier commit.
  r = banger("vm run '" + repo.string() +
             "' --rm --branch feature --from HEAD~1 -- sh -c 'git rev-parse --abbrev-ref HEAD; "
             "git log --format=%s; cat notes.txt'");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("feature\nfirst\nold\n"), std::string::npos) << r.out;

  // No PATH: a bare VM; the command's words arrive as they were given.
  r = banger("vm run --rm -- sh -c 'exit 3'");
  EXPECT_EQ(r.status, 3) << r.out;
  EXPECT_EQ(banger("vm run --rm -- true").status, 0);
  r = banger("vm run --rm -- printf '%s|' 'two words' \"it's\"");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("two words|it's|"), std::string::npos) << r.out;
  // A command killed by a signal: 128 + its number, as a shell reports it.
  r = banger("vm run --rm -- sh -c 'kill -TERM $$'");
  EXPECT_EQ(r.status, 128 + SIGTERM) << r.out;
}

TEST_F(VmLifecycle, VmRunUsageErrorsExit2BeforeAnythingIsCreated) {
  const size_t before = machineCount(*manager_);
  Shell r = banger("vm run --branch b -- true");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--branch"), std::string::npos) << r.out;
  r = banger("vm run . --from HEAD -- true");
  EXPECT_EQ(r.status, 2) << r.out;
  r = banger("vm run /no/such/dir -- true");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("/no/such/dir"), std::string::npos) << r.out;
  EXPECT_EQ(machineCount(*manager_), before);
}

// The first SSH wait times out (a real guest without sshd): the VM is kept even with --rm,
// and banger says where to look.
TEST_F(VmLifecycle, VmRunKeepsAVmWhoseSshNeverCameUpEvenWithRm) {
  // An image as many OCI images come: systemd, no sshd. Its guest boots, its agent
  // answers, and sshd never does.
  registerTestImage("nosshd");
  const fs::path config = harness_->root() / "config" / "config.toml";
  const std::string before = readFile(config);
  writeFile(config,
            std::string("firecracker_bin = \"") + FIRECRACKER_SIM_BIN + "\"\nssh_wait_sec = 15\n");
  // With a PATH, the copy is asked for while the VM boots, and waits for a boot that fails.
  const fs::path repo = makeRepository(harness_->root() / "silent");
  const Shell r =
      banger("vm run '" + repo.string() + "' --rm --image nosshd --name run-silent -- true");
  writeFile(config, before);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("ssh did not come up within 15 s"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("copying"), std::string::npos) << "only the boot's failure is told\n"
                                                      << r.out;
  EXPECT_NE(r.out.find("banger vm logs run-silent"), std::string::npos) << r.out;
  EXPECT_TRUE(exists("run-silent")) << "kept, even with --rm, so its logs can say why";
  // And they do: the guest found no sshd and its first-boot step went to install one
  // (which needs NAT, so here it never ends).
  const Shell logs = banger("vm logs run-silent");
  EXPECT_NE(logs.out.find("banger-first-boot: installing openssh-server with apt-get"),
            std::string::npos)
      << logs.out;
  // The copy that waited for it holds nothing: the machine takes the next operation.
  EXPECT_EQ(banger("vm delete run-silent").status, 0);
}

// The boot's first login fails while sshd answers (docs/vm.md): the VM runs all the same,
// the service says why in its log, and ssh says it to the user.
TEST_F(VmLifecycle, AVmWhoseSshdRefusesTheFirstLoginStillRunsAndSshSaysWhy) {
  registerTestImage("denyroot");
  const Shell created = banger("vm create --image denyroot --name refused");
  ASSERT_EQ(created.status, 0) << created.out;
  EXPECT_NE(created.out.find("refused is running"), std::string::npos) << created.out;
  const std::string log = readFile(harness_->root() / "session-bus.log");
  EXPECT_NE(log.find("the first ssh login to refused failed"), std::string::npos) << log;
  const Shell session = banger("vm ssh refused -- true");
  EXPECT_NE(session.status, 0) << session.out;
  EXPECT_NE(session.out.find("Permission denied"), std::string::npos) << session.out;
  EXPECT_EQ(banger("vm delete refused").status, 0);
}

// Completion asks the running Vm service for the names of machines that really run.
TEST_F(VmLifecycle, CompletionOffersTheNamesOfRunningMachines) {
  ASSERT_EQ(banger("vm create --name comp-run").status, 0);
  const fs::path script = harness_->root() / "banger.bash";
  writeFile(script, banger("completion bash").out);
  const fs::path tab = harness_->root() / "tab.sh";
  writeFile(tab, "source " + script.string() + "\nCOMP_WORDS=(" + BANGER_CLI_BIN +
                     " vm ssh comp-)\nCOMP_CWORD=3\n_banger\necho \"${COMPREPLY[*]}\"\n");
  std::string env;
  for (const auto& [key, value] : harness_->clientEnvironment()) env += key + "='" + value + "' ";
  EXPECT_EQ(shell("env " + env + "bash " + tab.string()).out, "comp-run\n");
  EXPECT_EQ(banger("vm delete comp-run").status, 0);
}

// `banger ssh-config --install`, then `ssh NAME.vm` as a user types it: no -F, no options,
// OpenSSH reading ~/.ssh/config and following the Include. OpenSSH takes ~ from the password
// database rather than $HOME, so the harness's home (where banger installed the block) is
// root's home in a mount namespace of the test's own; nothing of this machine's /root is
// touched. No terminal: a host key prompt would fail the login instead of waiting.
TEST_F(VmLifecycle, PlainSshToNameVmWorksThroughTheInstalledInclude) {
  ASSERT_EQ(banger("vm create --name plain").status, 0);
  const Shell installed = banger("ssh-config --install");
  ASSERT_EQ(installed.status, 0) << installed.out;
  const std::string home = harness_->clientEnvironment().at("HOME");
  const Shell plain = shell("timeout 60 unshare --mount sh -c 'mount --bind " + home +
                            " /root && exec nsenter --net=/run/netns/" + harness_->netns() +
                            " ssh plain.vm hostname' </dev/null 2>&1");
  EXPECT_EQ(plain.out, "plain\n");
  EXPECT_EQ(plain.status, 0);
  EXPECT_EQ(banger("ssh-config --uninstall").status, 0);
  EXPECT_EQ(banger("vm delete plain").status, 0);
}

// Ctrl-C during a long command: the session ends, the VM is deleted (--rm), status 130.
TEST_F(VmLifecycle, VmRunInterruptedDuringTheCommandStillDeletesItsVm) {
  std::vector<std::string> argv = {"nsenter",      "--net=/run/netns/" + harness_->netns(),
                                   BANGER_CLI_BIN, "vm",
                                   "run",          "--rm",
                                   "--name",       "run-int",
                                   "--",           "sleep",
                                   "600"};
  const fs::path log = harness_->root() / "run-int.log";
  const pid_t banger = spawnBackground(argv, harness_->clientEnvironment(), log);
  const bool sleeping = waitFor(
      [&] { return exists("run-int") && ssh("run-int.vm", "pgrep -x sleep").status == 0; }, 180s);
  ASSERT_TRUE(sleeping) << readFile(log);
  ::kill(banger, SIGINT);
  int status = 0;
  ASSERT_EQ(waitpid(banger, &status, 0), banger);
  EXPECT_TRUE(WIFEXITED(status)) << readFile(log);
  EXPECT_EQ(WEXITSTATUS(status), 130) << readFile(log);
  EXPECT_FALSE(exists("run-int")) << readFile(log);
}

}  // namespace
}  // namespace banger::test
