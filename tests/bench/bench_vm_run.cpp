// `banger vm run <repo of 1,000 files> -- true` in the guest simulator, cold (services not
// running, image local, no VM) and warm (the second run), ten runs each, split by stage
// from the moment each of banger's own lines arrives (banger started straight, as a shell
// starts it); and a workspace copy of a 10,000-file repository against
// `git archive HEAD | ssh guest tar -x`, same file set, in the same run. Prints; asserts only that
// the runs worked. Root (the guest simulator).
//
// The stand-in's boot is its InstanceStart (which in the simulator unpacks the initrd and
// starts the guest's namespaces before it answers, the guest kernel's work) and the time
// from banger's "agent:" line to its "ssh:" line. The simulator reports the first itself
// (FIRECRACKER_SIM_START_TIMES); both are printed, and left out of banger's share.
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "vm_lifecycle_fixture.h"

namespace banger::test {
namespace {

using Clock = std::chrono::steady_clock;

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// banger's stdout lines with the moment each arrived (ms after the start), and its status.
struct TimedRun {
  std::vector<std::pair<double, std::string>> lines;
  double total = 0;
  int status = -1;
  double at(const std::string& prefix) const {
    for (const auto& [when, text] : lines)
      if (text.rfind(prefix, 0) == 0) return when;
    return -1;
  }
};

// banger started as a user's shell starts it: forked and exec'd straight, in the test's
// network namespace (where its guests are), with the client environment. No sh, nsenter
// or env in between: their three program starts (about 15 ms here) are no part of
// banger's time.
TimedRun timedBanger(const std::vector<std::string>& args, const std::string& netns,
                     const std::map<std::string, std::string>& environment) {
  std::vector<std::string> envStrings = environmentWith(environment);
  std::vector<std::string> argStrings{BANGER_CLI_BIN};
  argStrings.insert(argStrings.end(), args.begin(), args.end());
  // Built before the fork: the child only calls what is safe after it.
  std::vector<char*> argv, envp;
  for (std::string& arg : argStrings) argv.push_back(arg.data());
  for (std::string& entry : envStrings) envp.push_back(entry.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  const int ns = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
  int out[2];
  TimedRun run;
  if (ns < 0 || ::pipe2(out, O_CLOEXEC) != 0) return run;
  const auto start = Clock::now();
  const pid_t child = ::fork();
  if (child == 0) {
    if (::setns(ns, CLONE_NEWNET) != 0) ::_exit(126);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(out[1], STDERR_FILENO);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(ns);
  FILE* pipe = ::fdopen(out[0], "r");
  char buffer[8192];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr)
    run.lines.emplace_back(ms(Clock::now() - start), buffer);
  std::fclose(pipe);
  int status = 0;
  if (child > 0) ::waitpid(child, &status, 0);
  run.total = ms(Clock::now() - start);
  run.status = child > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

struct Stats {
  std::vector<double> values;
  double pct(double p) const {
    if (values.empty()) return 0;
    std::vector<double> v = values;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1,
                      static_cast<size_t>(p / 100.0 * static_cast<double>(v.size())))];
  }
};

// The lines firecracker-sim has appended to its start-times file: "<id> <began> <ended>".
std::vector<std::string> startTimeLines(const fs::path& file) {
  std::vector<std::string> lines;
  std::istringstream in(readTextFileIfExists(file).value_or(""));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// How long one InstanceStart took in the simulator (ms), from its start-times line.
double instanceStartMs(const std::string& line) {
  std::istringstream in(line);
  std::string id;
  long long began = 0, ended = 0;
  in >> id >> began >> ended;
  return static_cast<double>(ended - began) / 1e6;
}

void makeRepo(const fs::path& repo, int files) {
  fs::create_directories(repo);
  const Shell made = shell("cd '" + repo.string() +
                           "' && git init -q -b main && git config user.email b@b && git config "
                           "user.name b && for d in $(seq 1 " +
                           std::to_string(files / 100) +
                           "); do mkdir -p src/d$d; for f in $(seq 1 100); do echo \"file $d $f "
                           "$(head -c 600 /dev/urandom | base64 -w0)\" > src/d$d/f$f.txt; done; "
                           "done && printf 'test:\\n\\ttrue\\n' > Makefile && git add . && git "
                           "commit -qm files");
  ASSERT_EQ(made.status, 0) << made.out;
}

// A repository as a developer has it: cloned, so its objects are in a pack.
void cloneRepo(const fs::path& from, const fs::path& to) {
  const Shell cloned =
      shell("git clone -q --no-local '" + from.string() + "' '" + to.string() + "'");
  ASSERT_EQ(cloned.status, 0) << cloned.out;
}

TEST_F(VmLifecycle, BenchmarkVmRunAndWorkspaceCopy) {
  const fs::path loose = harness_->root() / "bench-1k-loose";
  const fs::path small = harness_->root() / "bench-1k";
  const fs::path large = harness_->root() / "bench-10k";
  makeRepo(loose, 1000);
  cloneRepo(loose, small);
  makeRepo(large, 10000);
  std::string env;
  for (const auto& [key, value] : harness_->clientEnvironment()) env += key + "='" + value + "' ";
  const std::string banger =
      "nsenter --net=/run/netns/" + harness_->netns() + " env " + env + BANGER_CLI_BIN;
  // D-Bus starts the daemons through the harness's libexec links, so that is their argv[0];
  // anchored, so the pattern never matches the shell that runs pkill.
  const std::string daemons =
      "'^" + (harness_->root() / "libexec" / "banger").string() + "/banger-(vm|image) '";
  const auto stopServices = [&] {
    shell("pkill -TERM -f " + daemons);
    ASSERT_TRUE(waitFor([&] { return shell("pgrep -f " + daemons).status != 0; }, 10s))
        << "the services did not stop, so a cold run would be warm";
  };
  // Every Vm service D-Bus starts from now on, and so every firecracker-sim it launches,
  // reports its InstanceStarts there; the one running now is stopped so none is missed.
  const fs::path startTimes = harness_->root() / "sim-start-times";
  sdbus::createProxy(*bus_, "org.freedesktop.DBus", "/org/freedesktop/DBus")
      ->callMethod("UpdateActivationEnvironment")
      .onInterface("org.freedesktop.DBus")
      .withArguments(
          std::map<std::string, std::string>{{"FIRECRACKER_SIM_START_TIMES", startTimes.string()}});
  stopServices();

  // Cold and warm with the cloned repository; warm again with the one just committed,
  // whose objects are all loose (the slow case for git pack-objects). A round at a time:
  // cold, then warm (its second run), then loose, so a stretch in which this machine runs
  // slow falls on every series alike, not on one.
  struct Series {
    const char* title;
    bool cold;
    fs::path repo;
    std::map<std::string, Stats> stages;
  };
  std::vector<Series> series = {
      {"cold: services not running, image local, cloned repository", true, small, {}},
      {"warm: services running, the second run, cloned repository", false, small, {}},
      {"warm, a repository of loose objects (committed, never packed)", false, loose, {}}};
  for (int i = 0; i < 10; ++i) {
    for (Series& one : series) {
      if (one.cold) stopServices();
      ASSERT_FALSE(HasFatalFailure());
      const size_t startsBefore = startTimeLines(startTimes).size();
      const TimedRun run =
          timedBanger({"vm", "run", one.repo.string(), "--rm", "--name", "bench-run", "--", "true"},
                      harness_->netns(), harness_->clientEnvironment());
      ASSERT_EQ(run.status, 0) << run.lines.size();
      const double agent = run.at("agent:"), ssh = run.at("ssh:"), reading = run.at("reading:"),
                   copied = run.at("copied:"), stop = run.at("stop:");
      ASSERT_TRUE(agent > 0 && ssh > 0 && reading > 0 && copied > 0 && stop > 0);
      const std::vector<std::string> starts = startTimeLines(startTimes);
      ASSERT_EQ(starts.size(), startsBefore + 1) << "firecracker-sim reported no InstanceStart";
      const double instanceStart = instanceStartMs(starts.back());
      auto& stages = one.stages;
      stages["create (to the guest's boot)"].values.push_back(agent);
      stages["create, of which the stand-in's InstanceStart"].values.push_back(instanceStart);
      stages["stand-in boot (to its agent)"].values.push_back(ssh - agent);
      stages["ssh ready"].values.push_back(reading - ssh);
      stages["workspace"].values.push_back(copied - reading);
      stages["command"].values.push_back(stop - copied);
      stages["delete"].values.push_back(run.total - stop);
      stages["total"].values.push_back(run.total);
      stages["banger's share (total - stand-in boot - InstanceStart)"].values.push_back(
          run.total - (ssh - agent) - instanceStart);
      stages["banger's share counting the stand-in's InstanceStart"].values.push_back(
          run.total - (ssh - agent));
    }
  }
  for (const Series& one : series) {
    std::printf("\nvm run <repo of 1,000 files> -- true, %s, 10 runs (ms)\n", one.title);
    std::printf("  %-56s %9s %9s\n", "stage", "p50", "p95");
    for (const auto& [name, s] : one.stages)
      std::printf("  %-56s %9.1f %9.1f\n", name.c_str(), s.pct(50), s.pct(95));
  }

  // The workspace copy against its peer, alternating, same committed file set.
  ASSERT_EQ(shell(banger + " vm create --name bench-ws").status, 0);
  const fs::path config = harness_->root() / "config" / "ssh_config";
  // Cloned (packed) as a developer has it, and just committed (loose), the slow case for
  // git pack-objects; git archive reads both the same way.
  const fs::path largeLoose = harness_->root() / "bench-10k-loose";
  fs::rename(large, largeLoose);
  cloneRepo(largeLoose, large);
  for (const auto& [title, repo] :
       {std::pair<const char*, fs::path>{"cloned", large},
        std::pair<const char*, fs::path>{"loose objects", largeLoose}}) {
    Stats ours, peer;
    for (int i = 0; i < 5; ++i) {
      auto start = Clock::now();
      const Shell copied =
          shell(banger + " vm workspace prepare bench-ws '" + repo.string() + "' >/dev/null");
      ours.values.push_back(ms(Clock::now() - start));
      ASSERT_EQ(copied.status, 0) << copied.out;
      start = Clock::now();
      const Shell piped =
          shell("git -C '" + repo.string() + "' archive HEAD | nsenter --net=/run/netns/" +
                harness_->netns() + " ssh -F '" + config.string() +
                "' -o BatchMode=yes bench-ws.vm 'rm -rf /root/ref && mkdir -p "
                "/root/ref && tar -x -C /root/ref'");
      peer.values.push_back(ms(Clock::now() - start));
      ASSERT_EQ(piped.status, 0) << piped.out;
    }
    const Shell same =
        ssh("bench-ws.vm",
            "cd /root/repo && find . -path ./.git -prune -o -type f -print | sort > "
            "/tmp/a; cd /root/ref && find . -type f | sort > /tmp/b; cmp /tmp/a /tmp/b "
            "&& wc -l < /tmp/a");
    std::printf("\nworkspace copy of 10,000 files, %s (ms, 5 runs each, alternating)\n", title);
    std::printf("  banger vm workspace prepare            p50 %8.1f  p95 %8.1f\n", ours.pct(50),
                ours.pct(95));
    std::printf("  git archive HEAD | ssh guest tar -x    p50 %8.1f  p95 %8.1f\n", peer.pct(50),
                peer.pct(95));
    std::printf("  ratio (peer / banger, >= 1 means banger is as fast): %.2f\n",
                peer.pct(50) / ours.pct(50));
    std::printf("  same file set in the guest: %s",
                same.status == 0 ? ("yes, " + same.out).c_str() : ("NO\n" + same.out).c_str());
  }
  shell(banger + " vm delete bench-ws");
}

}  // namespace
}  // namespace banger::test
