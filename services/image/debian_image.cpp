#include "debian_image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

#include "banger/errors.h"
#include "banger/files.h"
#include "banger/log.h"
#include "injection.h"
#include "layered_volume.h"
#include "pull_job.h"
#include "work_seed.h"

namespace banger::image {
namespace {

// A stream cannot be written twice, so its size is set generously: the image holds about
// 0.8 GiB and, read-only, needs no room beyond that; the file is sparse.
constexpr std::uint64_t kDebianImageBytes = 4ull << 30;

std::string firstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

struct PipeEnds {
  int read = -1, write = -1;
  PipeEnds() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) fail(ErrorCode::Failed, "pipe for mmdebstrap's tar");
    read = fds[0];
    write = fds[1];
  }
  ~PipeEnds() {
    closeRead();
    closeWrite();
  }
  void closeRead() {
    if (read >= 0) ::close(read);
    read = -1;
  }
  void closeWrite() {
    if (write >= 0) ::close(write);
    write = -1;
  }
};

Command mmdebstrapCommand(const DebianImageRequest& request, const std::string& mode) {
  std::string include;
  for (const char* package : kDebianImagePackages) {
    if (!include.empty()) include += ',';
    include += package;
  }
  Command command({"mmdebstrap", "--variant=minbase", "--mode=" + mode, "--format=tar",
                   "--include=" + include, "--aptopt=Acquire::Retries \"3\"",
                   // Without update-motd.d, pam_motd runs no programs at each SSH login
                   // (five, for one uname line); banger-init writes that line at boot
                   // (agent/login_banner.h).
                   "--customize-hook=rm -r \"$1/etc/update-motd.d\"",
                   // The system bus and logind start when first asked for (dbus.socket, bus
                   // activation), not at every boot beside sshd and the first command.
                   "--customize-hook=rm \"$1/lib/systemd/system/multi-user.target.wants/"
                   "dbus.service\" \"$1/lib/systemd/system/multi-user.target.wants/"
                   "systemd-logind.service\"",
                   kDebianSuite, "-"});
  for (const debian::Suite& suite : request.suites)
    command.argv.push_back("deb " + suite.mirror + " " + suite.name + " main");
  return command;
}

}  // namespace

std::string mmdebstrapMode() {
  if (::geteuid() == 0) return "root";
  // Debian's switch for unprivileged user namespaces, and the kernel's own limit.
  const std::string clone = firstLine("/proc/sys/kernel/unprivileged_userns_clone");
  const std::string limit = firstLine("/proc/sys/user/max_user_namespaces");
  if (clone == "0" || limit == "0") return "fakechroot";
  return "unshare";
}

ImageRecord runDebianImagePull(const DebianImageRequest& request, KernelEnvironment& env,
                               JobContext& job) {
  if (request.kernelPull) {
    job.stage("kernel", request.kernelPull->name + " is not here yet: pulling it first");
    runKernelPull(*request.kernelPull, env, job);
  }
  // banger's layer first: a missing guest file fails now, not after mmdebstrap's work.
  const std::string injected = injectionLayer(kReproducibleTime, env.guest);
  const std::string mode = mmdebstrapMode();
  job.stage("mmdebstrap", "bookworm in " + mode + " mode");
  StagedImage staging(env.store);
  const std::filesystem::path rootfs = staging.dir() / ImageStore::kRootfsFile;

  // mmdebstrap writes its tar to a pipe this thread reads into the ext4 writer; its
  // phases ("I: downloading packages with apt...") become the stage's Detail.
  PipeEnds pipe;
  Command command = mmdebstrapCommand(request, mode);
  command.stdoutFd = pipe.write;
  // Its temporary tree lives in the staging directory, swept with it if anything is left;
  // and a stop gives it time to unmount what it mounted there (root mode) before SIGKILL.
  std::filesystem::create_directories(staging.dir() / "tmp");
  command.extraEnv["TMPDIR"] = (staging.dir() / "tmp").string();
  command.killGrace = std::chrono::seconds(30);
  std::mutex stageMutex;
  bool writing = false;
  std::deque<std::string> lastLines;
  ProcessResult result;
  std::exception_ptr runError;
  std::thread builder([&] {
    OutputSink sink;
    sink.stderrLine = [&](std::string_view line) {
      std::lock_guard lock(stageMutex);
      lastLines.emplace_back(line);
      if (lastLines.size() > 12) lastLines.pop_front();
      if (!writing && line.starts_with("I: ")) job.stage("mmdebstrap", std::string(line.substr(3)));
    };
    try {
      result = env.processes.stream(command, sink, job.cancelFlag());
    } catch (...) {
      runError = std::current_exception();
    }
    pipe.closeWrite();  // the reader sees the end of the stream, however mmdebstrap ended
  });

  std::exception_ptr writeError;
  ext4::BuildStats stats;
  try {
    std::vector<LayerInput> layers;
    layers.push_back({[&] {
                        return ext4::TarReader::openMemory(injected.data(), injected.size(),
                                                           "banger's layer");
                      },
                      injected.size(), true});
    // Opening reads the stream's first bytes, so it returns once mmdebstrap writes its tar.
    layers.push_back({[&] {
                        auto reader = ext4::TarReader::openFd(pipe.read, "mmdebstrap's tar");
                        std::lock_guard lock(stageMutex);
                        writing = true;
                        job.stage("write", "mmdebstrap's tar into " + request.name);
                        return reader;
                      },
                      0, false});
    LayeredVolume spec{
        .format = ext4::FormatOptions{.sizeBytes = kDebianImageBytes, .label = "banger-rootfs"},
        .limits = request.limits,
        .configure = [](ext4::ImageBuilder& builder) { builder.exclude(isSshHostKey); },
        .progress = [&](std::uint64_t, std::uint64_t) { job.throwIfCanceled(); }};
    stats = writeLayeredVolume(rootfs.string(), layers, spec);
  } catch (...) {
    writeError = std::current_exception();
  }
  pipe.closeRead();  // a writer that failed stops mmdebstrap with EPIPE
  builder.join();

  job.throwIfCanceled();
  if (runError) std::rethrow_exception(runError);
  if (!result.ok()) {
    std::string tail;
    for (const std::string& line : lastLines) tail += "\n  " + line;
    fail(ErrorCode::Failed,
         "mmdebstrap (" + mode + " mode) failed with " +
             (result.termSignal ? "signal " + std::to_string(result.termSignal)
                                : "exit " + std::to_string(result.exitCode)) +
             "; its last words:" + tail +
             (mode == "unshare" ? "\n(unshare mode needs user namespaces and subordinate ids in "
                                  "/etc/subuid and /etc/subgid; see docs/images.md)"
                                : ""));
  }
  if (writeError) std::rethrow_exception(writeError);
  for (const auto& warning : stats.warnings) log::warning(request.name + ": " + warning);
  if (::chmod(rootfs.c_str(), 0444) != 0)
    fail(ErrorCode::Failed, "cannot make " + rootfs.string() + " read-only");

  removeTreeOnThisFilesystem(staging.dir() / "tmp");
  job.stage("work-seed", "/root of " + request.name);
  buildWorkSeed(
      rootfs, staging.dir() / ImageStore::kWorkSeedFile, staging.dir() / "root.tar",
      WorkSeedOptions{
          .uuid = {}, .hashSeed = {}, .timestamp = kReproducibleTime, .limits = request.limits});
  job.throwIfCanceled();

  job.stage("publish", request.name);
  std::string suites;
  for (const debian::Suite& suite : request.suites)
    suites += (suites.empty() ? "" : ", ") + suite.name;
  ImageRecord record{.name = request.name,
                     .id = staging.id(),
                     .source = "catalog",
                     .reference = "mmdebstrap " + std::string(kDebianSuite) + " (" + suites +
                                  ") from " +
                                  (request.suites.empty() ? "" : request.suites.front().mirror),
                     .digest = "",
                     .kernel = request.kernel,
                     .initrd = "",
                     .rootfsBytes = std::filesystem::file_size(rootfs),
                     .createdAtUs = nowMicroseconds()};
  auto replaced = staging.publish(record, request.force);
  if (replaced) env.store.removeFiles(replaced->id);
  log::info("built " + request.name + " with mmdebstrap (" + std::to_string(stats.written) +
            " entries)");
  return record;
}

}  // namespace banger::image
