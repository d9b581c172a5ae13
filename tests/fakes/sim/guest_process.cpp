#include "guest_process.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/backend.h"
#include "core/vmm.h"
#include "syscall_supervisor.h"

namespace fcfake::sim {

namespace {

constexpr const char* kScratch = "/run/firecracker-sim";
constexpr const char* kNspawnState = "/run/systemd/nspawn";

[[noreturn]] void helperFails(const std::string& what) {
  std::fprintf(stderr, "firecracker-sim: %s: %s\n", what.c_str(), std::strerror(errno));
  _exit(1);
}

// In Firecracker only the VMM's own process holds the TAPs, so they are closed the moment
// it dies. The helpers are forked from it and would inherit them, keeping the host TAP's
// carrier up after a SIGKILL until PDEATHSIG reached them: Net then saw a TAP still in use.
void closeInheritedTaps() {
  std::vector<int> taps;
  if (DIR* fds = opendir("/proc/self/fd")) {
    while (dirent* entry = readdir(fds)) {
      char target[32] = {};
      const std::string link = std::string("/proc/self/fd/") + entry->d_name;
      if (readlink(link.c_str(), target, sizeof target - 1) > 0 &&
          std::strcmp(target, "/dev/net/tun") == 0)
        taps.push_back(std::atoi(entry->d_name));
    }
    closedir(fds);
  }
  for (const int fd : taps) close(fd);
}

void unpackInitrd(int fd, const std::string& root) {
  archive* in = archive_read_new();
  archive_read_support_filter_all(in);
  archive_read_support_format_cpio(in);
  lseek(fd, 0, SEEK_SET);
  if (archive_read_open_fd(in, fd, 1 << 16) != ARCHIVE_OK)
    helperFails(std::string("reading the initrd: ") + archive_error_string(in));
  archive* out = archive_write_disk_new();
  archive_write_disk_set_options(out, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
                                          ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
                                          ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                          ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  archive_entry* entry = nullptr;
  int result = ARCHIVE_OK;
  while ((result = archive_read_next_header(in, &entry)) == ARCHIVE_OK) {
    std::string path = archive_entry_pathname(entry);
    while (path.rfind("./", 0) == 0) path.erase(0, 2);
    if (path.empty() || path == ".") continue;
    archive_entry_set_pathname(entry, (root + "/" + path).c_str());
    if (const char* link = archive_entry_hardlink(entry)) {
      std::string target = link;
      while (target.rfind("./", 0) == 0) target.erase(0, 2);
      archive_entry_set_hardlink(entry, (root + "/" + target).c_str());
    }
    if (archive_write_header(out, entry) != ARCHIVE_OK)
      helperFails(std::string("unpacking the initrd: ") + archive_error_string(out));
    const void* block = nullptr;
    size_t size = 0;
    la_int64_t offset = 0;
    while (archive_read_data_block(in, &block, &size, &offset) == ARCHIVE_OK)
      archive_write_data_block(out, block, size, offset);
    archive_write_finish_entry(out);
  }
  if (result != ARCHIVE_EOF)
    helperFails(std::string("reading the initrd: ") + archive_error_string(in));
  archive_write_free(out);
  archive_read_free(in);
}

void mountRootDrive(const LoopDevice& disk, const std::string& root) {
  const unsigned long flags = disk.readOnly ? MS_RDONLY : 0;
  for (const char* type : {"ext4", "squashfs", "xfs", "btrfs", "erofs"})
    if (mount(disk.path.c_str(), root.c_str(), type, flags, nullptr) == 0) return;
  helperFails("mounting the root drive " + disk.path);
}

void sendFd(int socket, int fd) {
  char control[CMSG_SPACE(sizeof(int))] = {};
  char byte = 'L';
  iovec io{&byte, 1};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
  sendmsg(socket, &message, 0);
}

int receiveFd(int socket) {
  char control[CMSG_SPACE(sizeof(int))] = {};
  char byte = 0;
  iovec io{&byte, 1};
  msghdr message{};
  message.msg_iov = &io;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  if (recvmsg(socket, &message, MSG_CMSG_CLOEXEC) <= 0) return -1;
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  if (!header || header->cmsg_type != SCM_RIGHTS) return -1;
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
  return fd;
}

// PID 1 of the guest's outer PID namespace: builds the tree, runs nspawn, reaps.
[[noreturn]] void runHelper(const GuestPlan& plan, int listenerSocket) {
  // Its parent sits outside the namespace (getppid() says 0) and waits for it.
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(1);
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    helperFails("making / private");
  // nspawn keeps per-machine state there and refuses to clean it where /run is no tmpfs;
  // one of this namespace's own leaves nothing on the host, even after a SIGKILL.
  std::error_code ignored;  // a mount on a missing directory says so below
  std::filesystem::create_directories(kNspawnState, ignored);
  if (mount("firecracker-sim", kNspawnState, "tmpfs", 0, "mode=0755") != 0)
    helperFails(std::string("mounting a tmpfs on ") + kNspawnState);
  mkdir(kScratch, 0700);
  if (mount("firecracker-sim", kScratch, "tmpfs", 0, "mode=0700") != 0)
    helperFails(std::string("mounting a tmpfs on ") + kScratch);
  const std::string root = std::string(kScratch) + "/root";
  mkdir(root.c_str(), 0755);
  std::string cmdlineSource;
  if (plan.initrdFd >= 0) {
    if (mount("initramfs", root.c_str(), "tmpfs", 0, "mode=0755") != 0) helperFails("initramfs");
    unpackInitrd(plan.initrdFd, root);
    mkdir((root + "/usr").c_str(), 0755);  // nspawn refuses a tree without one
    cmdlineSource = "/.cmdline";
  } else {
    mountRootDrive(plan.disks->front(), root);
    // Never write into the guest's disk: the command line lives on a tmpfs at /tmp,
    // sized as systemd's tmp.mount sizes one (half the RAM) since the guest uses it.
    const std::string options = "mode=1777,size=" + std::to_string(plan.memSizeMib / 2) + "m";
    if (mount("tmp", (root + "/tmp").c_str(), "tmpfs", 0, options.c_str()) != 0)
      helperFails("mounting a tmpfs on the guest's /tmp");
    cmdlineSource = "/tmp/.firecracker-sim-cmdline";
  }
  {
    std::ofstream cmdline(root + cmdlineSource);
    cmdline << plan.commandLine << "\n";
    if (!cmdline) helperFails("writing the guest's command line");
  }

  std::vector<std::string> args = {
      plan.nspawnBinary,
      "--quiet",
      "--register=no",
      "--keep-unit",
      "--console=read-only",
      "--kill-signal=SIGRTMIN+3",
      "--capability=CAP_NET_ADMIN",
      "--resolv-conf=off",
      "--timezone=off",
      "--link-journal=no",
      "--network-namespace-path=/proc/self/fd/" + std::to_string(plan.netnsFd),
      "-D",
      root,
      "-M",
      plan.machineName,
      "--bind-ro=" + cmdlineSource + ":/proc/cmdline"};
  for (const LoopDevice& disk : *plan.disks)
    args.push_back("--bind=" + disk.path + ":/dev/" + disk.guestName);
  args.push_back(initFor(plan.commandLine, plan.initrdFd >= 0));

  const pid_t nspawn = fork();
  if (nspawn < 0) helperFails("fork");
  if (nspawn == 0) {
    const int devNull = open("/dev/null", O_RDONLY);
    dup2(devNull, STDIN_FILENO);
    dup2(plan.consoleFd, STDOUT_FILENO);
    const int netns = fcntl(plan.netnsFd, F_GETFD);
    fcntl(plan.netnsFd, F_SETFD, netns & ~FD_CLOEXEC);
    const int listener = installGuestFilter();
    if (listener < 0) helperFails("installing the guest's seccomp filter");
    sendFd(listenerSocket, listener);
    close(listener);
    close(listenerSocket);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    helperFails("executing " + plan.nspawnBinary);
  }
  close(listenerSocket);
  for (;;) {  // as PID 1: reap everything, end with nspawn
    int status = 0;
    const pid_t done = wait(&status);
    if (done < 0 && errno == ECHILD) _exit(1);
    if (done == nspawn) _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
}

std::vector<std::string> fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

pid_t parentOf(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  const std::vector<std::string> rest = fields(text.substr(close + 1));
  return rest.size() > 1 ? static_cast<pid_t>(std::stol(rest[1])) : -1;
}

}  // namespace

std::string initFor(const std::string& commandLine, bool withInitrd) {
  const std::string key = withInitrd ? "rdinit=" : "init=";
  std::string init = withInitrd ? "/init" : "/sbin/init";
  for (const std::string& word : fields(commandLine))
    if (word.rfind(key, 0) == 0) init = word.substr(key.size());
  return init;
}

GuestProcess::GuestProcess(const GuestPlan& plan, UniqueFd& listener) {
  int sockets[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0)
    throw ApiError("socketpair: " + osError(errno));
  const pid_t parent = getpid();
  // fork() rather than a raw clone(CLONE_NEWPID): glibc's fork keeps malloc usable in
  // the child while other threads run. The child then makes the namespaces, and its own
  // child is their PID 1. Each dies with its parent (PR_SET_PDEATHSIG).
  helper_ = fork();
  if (helper_ < 0) throw ApiError("Cannot start the guest's namespaces: " + osError(errno));
  if (helper_ == 0) {
    close(sockets[0]);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(1);
    closeInheritedTaps();
    if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0)
      helperFails("unshare(CLONE_NEWPID | CLONE_NEWNS)");
    const pid_t init = fork();
    if (init < 0) helperFails("fork");
    if (init == 0) runHelper(plan, sockets[1]);
    close(sockets[1]);
    int status = 0;
    while (waitpid(init, &status, 0) < 0 && errno == EINTR) {
    }
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  close(sockets[1]);
  listener = UniqueFd(receiveFd(sockets[0]));
  close(sockets[0]);
  if (!listener) {
    kill();
    throw ApiError("The guest did not start (see the simulator's stderr)");
  }
}

GuestProcess::~GuestProcess() {
  if (!reaped_) {
    kill();
    wait();
  }
}

std::optional<pid_t> GuestProcess::guestInit() const {
  // The process whose NSpid has three levels (host, the helper's, the guest's) and is 1
  // in the innermost, below the helper.
  DIR* proc = opendir("/proc");
  if (!proc) return std::nullopt;
  std::optional<pid_t> found;
  while (dirent* entry = readdir(proc)) {
    if (!std::isdigit(static_cast<unsigned char>(entry->d_name[0]))) continue;
    std::ifstream status(std::string("/proc/") + entry->d_name + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("NSpid:", 0) != 0) continue;
      const std::vector<std::string> ids = fields(line.substr(6));
      if (ids.size() == 3 && ids[2] == "1") {
        const pid_t pid = static_cast<pid_t>(std::stol(ids[0]));
        for (pid_t up = pid; up > 1; up = parentOf(up))
          if (up == helper_) found = pid;
      }
      break;
    }
    if (found) break;
  }
  closedir(proc);
  return found;
}

int GuestProcess::wait() {
  if (reaped_) return status_;
  int status = 0;
  while (waitpid(helper_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return status_;
}

void GuestProcess::kill() {
  if (!reaped_) ::kill(helper_, SIGKILL);
}

}  // namespace fcfake::sim
