// The banger command line as a user runs it, against services on a private session bus.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "banger/process.h"
#include "harness.h"

using namespace banger;
using namespace banger::test;
namespace fs = std::filesystem;

namespace {

class Cli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { harness_ = new BusHarness({60, false, false}); }
  static void TearDownTestSuite() {
    delete harness_;
    harness_ = nullptr;
  }
  ProcessResult banger(std::vector<std::string> args) {
    args.insert(args.begin(), BANGER_CLI_BIN);
    Command command(std::move(args));
    command.extraEnv = harness_->clientEnvironment();
    command.timeout = std::chrono::seconds(30);
    return SystemProcessRunner().run(command);
  }
  static BusHarness* harness_;
};
BusHarness* Cli::harness_ = nullptr;

TEST_F(Cli, VersionAndHelp) {
  auto r = banger({"--version"});
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_EQ(r.out, "banger 0.1.0\n");
  r = banger({"--help"});
  EXPECT_EQ(r.exitCode, 0);
  for (const char* group :
       {"vm", "image", "kernel", "dns", "doctor", "ssh-config", "completion", "system"}) {
    EXPECT_NE(r.out.find(std::string("  ") + group), std::string::npos) << group << "\n" << r.out;
  }
  r = banger({"vm", "--help"});
  for (const char* sub : {"run", "create", "start", "stop", "restart", "kill", "delete", "prune",
                          "list", "show", "ssh", "logs", "stats", "ports", "set", "workspace"}) {
    EXPECT_NE(r.out.find(std::string("  ") + sub), std::string::npos) << sub << "\n" << r.out;
  }
}

TEST_F(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(banger({}).exitCode, 2);
  EXPECT_EQ(banger({"vm"}).exitCode, 2);
  EXPECT_EQ(banger({"vm", "create", "--vcpu", "99"}).exitCode, 2);
  EXPECT_EQ(banger({"vm", "frobnicate"}).exitCode, 2);
  const auto r = banger({"vm", "list", "--", "ls"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("only `vm run` and `vm ssh` take a command after --"), std::string::npos)
      << r.err;
}

TEST_F(Cli, CreatePrintsTheSpecLineFirstThenTheServiceError) {
  const auto r = banger({"vm", "create", "--name", "nowhere", "--image", "no-such-image", "--vcpu",
                         "2", "--memory", "2048", "--disk-size", "16G"});
  EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("spec: 2 vcpu · 2048 MiB · 16G disk\n", 0), 0U) << r.out;
  EXPECT_NE(r.err.find("banger: creating nowhere: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("banger image catalog"), std::string::npos) << r.err;
  EXPECT_EQ(banger({"vm", "delete", "nowhere"}).exitCode, 0);
}

TEST_F(Cli, RunKeepsTheRepositoryAndTheCommandApart) {
  // The spec line proves the flags before -- were parsed and the command after it was not.
  const auto r =
      banger({"vm", "run", harness_->root().string(), "--vcpu", "1", "--", "make", "--vcpu", "7"});
  EXPECT_EQ(r.out.rfind("spec: 1 vcpu", 0), 0U) << r.out << r.err;
}

TEST_F(Cli, RunAndCreateUsageErrorsExitTwoBeforeAnythingIsCreated) {
  // Were a VM created, the output would start with the spec line.
  auto r = banger({"vm", "run", "--branch", "feature"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("--branch"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("spec:"), std::string::npos) << r.out;
  r = banger({"vm", "run", "./repo", "--from", "main"});
  EXPECT_EQ(r.exitCode, 2) << r.out;
  r = banger({"vm", "create", "--name", "Web_1"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("'Web_1' is not a VM name"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("spec:"), std::string::npos) << r.out;
}

TEST_F(Cli, RunRefusesAPathThatIsNoDirectoryBeforeCreatingAnything) {
  const auto r = banger({"vm", "run", "/no/such/repo", "--", "true"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("'/no/such/repo' is no directory"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("spec:"), std::string::npos) << r.out;
}

// ~/.ssh/config gets one fenced Include at its top however often --install runs, and
// --uninstall gives back the very bytes that were there before.
TEST_F(Cli, SshConfigInstallIsIdempotentAndUninstallRestoresTheFile) {
  const fs::path home = harness_->root() / "home";
  const fs::path config = home / ".ssh" / "config";
  fs::remove_all(home / ".ssh");
  auto r = banger({"ssh-config"});
  EXPECT_EQ(r.exitCode, 0);
  const std::string ours = (harness_->root() / "config" / "ssh_config").string();
  EXPECT_NE(r.out.find("Include \"" + ours + "\""), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(config)) << "printing the path writes nothing";

  // Absent: made 0600 in a 0700 ~/.ssh.
  r = banger({"ssh-config", "--install"});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(fs::status(config).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(home / ".ssh").permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(readFile(config).rfind("# >>> banger", 0), 0u) << readFile(config);
  EXPECT_EQ(banger({"ssh-config", "--uninstall"}).exitCode, 0);
  EXPECT_EQ(readFile(config), "");

  const std::string before =
      "Host work\n  HostName work.example\n\nHost *\n  ServerAliveInterval 30\n";
  writeFile(config, before);
  fs::permissions(config, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_EQ(banger({"ssh-config", "--install"}).exitCode, 0);
  r = banger({"ssh-config", "--install"});
  EXPECT_NE(r.out.find("already there"), std::string::npos) << r.out;
  const std::string installed = readFile(config);
  EXPECT_EQ(installed.rfind("# >>> banger", 0), 0u) << installed;
  size_t blocks = 0;
  for (size_t at = 0; (at = installed.find("Include ", at)) != std::string::npos; ++at) ++blocks;
  EXPECT_EQ(blocks, 1u) << installed;
  EXPECT_EQ(installed.substr(installed.size() - before.size()), before);
  EXPECT_EQ(fs::status(config).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read)
      << "the file's own mode is kept";
  r = banger({"ssh-config", "--uninstall"});
  EXPECT_NE(r.out.find("removed"), std::string::npos) << r.out;
  EXPECT_EQ(readFile(config), before);
  r = banger({"ssh-config", "--uninstall"});
  EXPECT_NE(r.out.find("not there"), std::string::npos) << r.out;
  EXPECT_EQ(readFile(config), before);
  EXPECT_EQ(banger({"ssh-config", "--install", "--uninstall"}).exitCode, 2);

  // A dotfiles symlink stays a symlink; the file it points at is edited.
  const fs::path dotfiles = home / "dotfiles-ssh-config";
  fs::rename(config, dotfiles);
  fs::create_symlink(dotfiles, config);
  EXPECT_EQ(banger({"ssh-config", "--install"}).exitCode, 0);
  EXPECT_TRUE(fs::is_symlink(config));
  EXPECT_EQ(readFile(dotfiles).rfind("# >>> banger", 0), 0u);
  EXPECT_EQ(banger({"ssh-config", "--uninstall"}).exitCode, 0);
  EXPECT_EQ(readFile(dotfiles), before);
}

TEST_F(Cli, PruneWithoutATerminalWantsForce) {
  const auto r = banger({"vm", "prune"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("pass --force"), std::string::npos) << r.err;
}

TEST_F(Cli, BadDiskSizeIsAUsageError) {
  const auto r = banger({"vm", "create", "--disk-size", "lots"});
  EXPECT_EQ(r.exitCode, 2);
  EXPECT_NE(r.err.find("'lots' is not a size like 8G"), std::string::npos) << r.err;
}

TEST_F(Cli, DnsStatusReadsTheServiceProperties) {
  auto r = banger({"dns", "status", "--json"});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto status = nlohmann::json::parse(r.out);
  EXPECT_EQ(status["zone"], "vm");
  EXPECT_EQ(status["listen_address"], harness_->dnsAddress());
  EXPECT_EQ(status["record_count"], 0);
  r = banger({"dns", "status"});
  EXPECT_NE(r.out.find("zone:    vm"), std::string::npos) << r.out;
}

TEST_F(Cli, CompletionScriptsCoverTheCommandTree) {
  auto r = banger({"completion", "bash"});
  ASSERT_EQ(r.exitCode, 0);
  EXPECT_NE(r.out.find("complete -F _banger banger"), std::string::npos);
  EXPECT_NE(r.out.find("\"vm\") echo \"run create start"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"vm workspace\") echo \"prepare"), std::string::npos) << r.out;
  r = banger({"completion", "zsh"});
  EXPECT_NE(r.out.find("bashcompinit"), std::string::npos);
  r = banger({"completion", "fish"});
  EXPECT_NE(r.out.find("complete -c banger -n '__fish_seen_subcommand_from vm' -a 'run create"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(banger({"completion", "tcsh"}).exitCode, 2);
}

TEST_F(Cli, BashCompletionCompletesSubcommands) {
  const auto script = harness_->root() / "banger.bash";
  writeFile(script, banger({"completion", "bash"}).out);
  Command bash{
      {"bash", "-c",
       "source " + script.string() +
           "; COMP_WORDS=(banger vm wo); COMP_CWORD=2; _banger; echo \"${COMPREPLY[*]}\""}};
  const auto r = SystemProcessRunner().run(bash);
  EXPECT_EQ(r.out, "workspace\n") << r.err;
}

// Completion asks only services that already run, and offers live names not yet typed.
TEST(Completion, OffersLiveNamesAndNeverStartsAService) {
  BusHarness harness({60, false, false});
  const auto banger = [&](std::vector<std::string> args) {
    args.insert(args.begin(), BANGER_CLI_BIN);
    Command command(std::move(args));
    command.extraEnv = harness.clientEnvironment();
    command.timeout = std::chrono::seconds(30);
    return SystemProcessRunner().run(command);
  };
  const auto running = [&](const std::string& name) {
    bool owned = false;
    auto bus = harness.connectSession();
    sdbus::createProxy(*bus, "org.freedesktop.DBus", "/org/freedesktop/DBus")
        ->callMethod("NameHasOwner")
        .onInterface("org.freedesktop.DBus")
        .withArguments(name)
        .storeResultsTo(owned);
    return owned;
  };
  for (const char* kind : {"vm", "image", "kernel"}) {
    const auto r = banger({"__complete", kind});
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(r.out, "") << kind;
  }
  EXPECT_FALSE(running("org.banger.Vm"));
  EXPECT_FALSE(running("org.banger.Image"));
  const std::string busLog = readFile(harness.root() / "session-bus.log");
  EXPECT_EQ(busLog.find("Activating"), std::string::npos) << busLog;

  // Machines exist (in error: there is no such image here); the Vm service runs now.
  for (const char* name : {"alpha", "beta"})
    banger({"vm", "create", "--name", name, "--image", "no-such-image"});
  ASSERT_TRUE(running("org.banger.Vm"));
  EXPECT_EQ(banger({"__complete", "vm"}).out, "alpha\nbeta\n");
  const auto script = harness.root() / "banger.bash";
  writeFile(script, banger({"completion", "bash"}).out);
  const auto complete = [&](const std::string& words, int cword) {
    Command bash{{"bash", "-c",
                  "source " + script.string() + "; COMP_WORDS=(" + BANGER_CLI_BIN + " " + words +
                      "); COMP_CWORD=" + std::to_string(cword) +
                      "; _banger; echo \"${COMPREPLY[*]}\""}};
    bash.extraEnv = harness.clientEnvironment();
    return SystemProcessRunner().run(bash).out;
  };
  EXPECT_EQ(complete("vm ssh ''", 3), "alpha beta\n");
  EXPECT_EQ(complete("vm ssh b", 3), "beta\n");
  EXPECT_EQ(complete("vm delete alpha ''", 4), "beta\n") << "a typed name is not offered again";
  EXPECT_EQ(complete("vm st", 2), "start stop stats\n");
  for (const char* name : {"alpha", "beta"}) banger({"vm", "delete", name});
}

// A create needs the Image service through the Vm service: on a first run the CLI asks
// the bus to start Image before it calls Vm, so the two start side by side. The bus says
// who asked for each start.
TEST(ServiceStart, ACreateStartsTheImageServiceAlongsideTheVmService) {
  BusHarness harness({60, false, false});
  Command create{{BANGER_CLI_BIN, "vm", "create", "--no-start", "--name", "early", "--image",
                  "no-such-image"}};
  create.extraEnv = harness.clientEnvironment();
  create.timeout = std::chrono::seconds(30);
  const auto r = SystemProcessRunner().run(create);
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.err.find("no-such-image"), std::string::npos) << r.err;
  const std::string busLog = readFile(harness.root() / "session-bus.log");
  const std::size_t image = busLog.find("Activating service name='org.banger.Image'");
  ASSERT_NE(image, std::string::npos) << busLog;
  const std::string line = busLog.substr(image, busLog.find('\n', image) - image);
  EXPECT_NE(line.find(std::string("comm=\"") + BANGER_CLI_BIN), std::string::npos) << line;
}

TEST_F(Cli, WithoutAUserBusTheErrorSaysSo) {
  Command command{{BANGER_CLI_BIN, "vm", "list"}};
  command.extraEnv = {{"DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus"}};
  const auto r = SystemProcessRunner().run(command);
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("no D-Bus session bus here"), std::string::npos) << r.err;
}

}  // namespace
