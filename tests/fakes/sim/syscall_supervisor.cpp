#include "syscall_supervisor.h"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

namespace fcfake::sim {

namespace {

constexpr std::uint32_t kArgLow(int n) {
  return static_cast<std::uint32_t>(offsetof(seccomp_data, args) + 8 * n);
}

UniqueFd targetFd(pid_t pid, int fd) {
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) return UniqueFd();
  return UniqueFd(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), fd, 0)));
}

bool readTarget(pid_t pid, std::uint64_t address, void* out, std::size_t size) {
  const std::string path = "/proc/" + std::to_string(pid) + "/mem";
  UniqueFd mem(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  return mem &&
         pread(mem.get(), out, size, static_cast<off_t>(address)) == static_cast<ssize_t>(size);
}

std::string readTargetString(pid_t pid, std::uint64_t address, std::size_t max) {
  const std::string path = "/proc/" + std::to_string(pid) + "/mem";
  UniqueFd mem(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string out;
  char c = 0;
  while (mem && out.size() < max &&
         pread(mem.get(), &c, 1, static_cast<off_t>(address + out.size())) == 1 && c != '\0')
    out.push_back(c);
  return out;
}

int unixAddress(const std::string& path, sockaddr_un& address) {
  address = {};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return -ENAMETOOLONG;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  return 0;
}

}  // namespace

int installGuestFilter() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArgLow(0)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_VSOCK, 6, 7),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),  // (unused slot kept for the jumps)
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mount, 4, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_bind, 1, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_connect, 0, 3),
      // bind/connect: only an address of sockaddr_vm's size can be a vsock one.
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kArgLow(2)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, sizeof(sockaddr_vm), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return static_cast<int>(
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &program));
}

SyscallSupervisor::SyscallSupervisor(UniqueFd listener, std::string udsPath,
                                     std::string nspawnBinary)
    : listener_(std::move(listener)), udsPath_(std::move(udsPath)) {
  struct stat binary {};
  if (stat(nspawnBinary.c_str(), &binary) == 0) {
    nspawnDev_ = binary.st_dev;
    nspawnIno_ = binary.st_ino;
  }
  thread_ = std::thread([this] { run(); });
}

SyscallSupervisor::~SyscallSupervisor() {
  stop_.fire();
  thread_.join();
}

void SyscallSupervisor::run() {
  seccomp_notif_sizes sizes{};
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) return;
  std::vector<char> requestBuffer(
      std::max<std::size_t>(sizes.seccomp_notif, sizeof(seccomp_notif)));
  std::vector<char> responseBuffer(
      std::max<std::size_t>(sizes.seccomp_notif_resp, sizeof(seccomp_notif_resp)));
  auto* request = reinterpret_cast<seccomp_notif*>(requestBuffer.data());
  auto* response = reinterpret_cast<seccomp_notif_resp*>(responseBuffer.data());

  for (;;) {
    const int ready = stop_.wait(listener_.get(), POLLIN);
    if (ready < 0 || (ready & (POLLHUP | POLLERR)))
      return;  // stopped, or every filtered process is gone
    std::memset(request, 0, requestBuffer.size());
    if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_RECV, request) != 0) continue;
    std::memset(response, 0, responseBuffer.size());
    response->id = request->id;
    response->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    const pid_t pid = static_cast<pid_t>(request->pid);
    const auto fail = [&](int error) {
      response->flags = 0;
      response->error = -error;
    };
    const auto succeed = [&] {
      response->flags = 0;
      response->error = 0;
      response->val = 0;
    };

    switch (request->data.nr) {
      case SYS_socket: {
        const int type = static_cast<int>(request->data.args[1]);
        if (udsPath_.empty()) {
          fail(ENODEV);  // no vsock device configured
          break;
        }
        if ((type & 0xf) != SOCK_STREAM) {
          fail(ESOCKTNOSUPPORT);  // Firecracker's vsock device is stream-only
          break;
        }
        UniqueFd standIn(socket(AF_UNIX, SOCK_STREAM | (type & SOCK_NONBLOCK), 0));
        struct stat info {};
        if (!standIn || fstat(standIn.get(), &info) != 0) {
          fail(ENOMEM);
          break;
        }
        seccomp_notif_addfd add{};
        add.id = request->id;
        add.flags = SECCOMP_ADDFD_FLAG_SEND;
        add.srcfd = static_cast<__u32>(standIn.get());
        add.newfd_flags = (type & SOCK_CLOEXEC) ? O_CLOEXEC : 0;
        translated_.insert(info.st_ino);
        // On success the guest's socket() returns the new descriptor; nothing to send.
        if (ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_ADDFD, &add) >= 0) continue;
        translated_.erase(info.st_ino);
        fail(errno == ENOENT ? EINTR : EMFILE);
        break;
      }
      case SYS_bind:
      case SYS_connect: {
        sockaddr_vm address{};
        if (!readTarget(pid, request->data.args[1], &address, sizeof address) ||
            address.svm_family != AF_VSOCK)
          break;  // not vsock: continue
        UniqueFd socket = targetFd(pid, static_cast<int>(request->data.args[0]));
        struct stat info {};
        if (!socket || fstat(socket.get(), &info) != 0 || !translated_.count(info.st_ino)) {
          fail(EINVAL);
          break;
        }
        sockaddr_un unixAddr{};
        if (request->data.nr == SYS_bind) {
          unsigned port = address.svm_port;
          if (port == VMADDR_PORT_ANY) port = nextEphemeralPort_++;
          const std::string path = udsPath_ + ".guest_" + std::to_string(port);
          if (const int error = unixAddress(path, unixAddr); error != 0) {
            fail(-error);
            break;
          }
          unlink(path.c_str());  // a listener of an earlier boot of this VM
          if (bind(socket.get(), reinterpret_cast<sockaddr*>(&unixAddr), sizeof unixAddr) != 0) {
            fail(errno);
            break;
          }
          succeed();
        } else {
          if (address.svm_cid != VMADDR_CID_HOST) {
            fail(ECONNRESET);  // Firecracker only carries guest connections to the host
            break;
          }
          const std::string path = udsPath_ + "_" + std::to_string(address.svm_port);
          if (const int error = unixAddress(path, unixAddr); error != 0) {
            fail(-error);
            break;
          }
          if (connect(socket.get(), reinterpret_cast<sockaddr*>(&unixAddr), sizeof unixAddr) != 0) {
            // Nothing listening on the host: the guest gets a reset, as from Firecracker.
            fail(errno == ENOENT || errno == ECONNREFUSED ? ECONNRESET : errno);
            break;
          }
          succeed();
        }
        break;
      }
      case SYS_mount: {
        if (request->data.args[2] == 0) break;
        const std::string type = readTargetString(pid, request->data.args[2], 32);
        if (type != "devtmpfs" && type != "sysfs") break;
        struct stat exe {};
        const std::string exePath = "/proc/" + std::to_string(pid) + "/exe";
        const bool isNspawn = stat(exePath.c_str(), &exe) == 0 && exe.st_dev == nspawnDev_ &&
                              exe.st_ino == nspawnIno_;
        if (!isNspawn) fail(EPERM);
        break;
      }
      default:
        break;
    }
    // The target may have died meanwhile; the kernel then refuses the answer (ENOENT).
    ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SEND, response);
  }
}

}  // namespace fcfake::sim
