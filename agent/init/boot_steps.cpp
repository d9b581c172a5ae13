#include "boot_steps.h"

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>
#include <vector>

#include "boot_records.h"
#include "interface_setup.h"
#include "login_banner.h"
#include "module_info.h"
#include "whole_file.h"

namespace banger::guest {

namespace {

constexpr auto kDeviceWait = std::chrono::seconds(10);

std::string errorText(int error) { return std::strerror(error); }

bool isMountPoint(const std::string& path) {
  struct stat self {
  }, parent{};
  if (::stat(path.c_str(), &self) != 0 || ::stat((path + "/..").c_str(), &parent) != 0)
    return false;
  return self.st_dev != parent.st_dev || self.st_ino == parent.st_ino;
}

void makeDirectory(const std::string& step, const std::string& path, mode_t mode = 0755) {
  if (::mkdir(path.c_str(), mode) == 0 || errno == EEXIST) return;
  throw BootStepError(step, "cannot create " + path + ": " + errorText(errno));
}

void mountOrFail(const std::string& step, const std::string& source, const std::string& target,
                 const std::string& type, unsigned long flags, const std::string& data,
                 const std::string& what) {
  if (::mount(source.c_str(), target.c_str(), type.empty() ? nullptr : type.c_str(), flags,
              data.empty() ? nullptr : data.c_str()) != 0)
    throw BootStepError(step, what + ": " + errorText(errno));
}

// `hosts` with one "127.0.1.1 NAME" line for this boot's name, replacing any from before.
std::string hostsWithName(const std::string& hosts, const std::string& name) {
  constexpr const char* kMark = "# banger-init: this VM's name";
  std::string kept, line;
  std::istringstream in(hosts);
  while (std::getline(in, line))
    if (line.find(kMark) == std::string::npos && line.rfind("127.0.1.1", 0) != 0)
      kept += line + "\n";
  if (kept.find("localhost") == std::string::npos) kept = "127.0.0.1\tlocalhost\n" + kept;
  return kept + "127.0.1.1\t" + name + "\t" + kMark + "\n";
}

void writeWhole(const std::string& step, const std::string& path, const std::string& text) {
  ::unlink(path.c_str());  // a symlink (resolved's stub) is replaced, never followed
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) throw BootStepError(step, "cannot write " + path + ": " + errorText(errno));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int error = errno;
  ::close(fd);
  if (!written) throw BootStepError(step, "cannot write " + path + ": " + errorText(error));
}

std::string failuresNote(const std::vector<std::string>& moduleFailures) {
  if (moduleFailures.empty()) return "";
  std::string note = " (modules that did not load: ";
  for (std::size_t i = 0; i < moduleFailures.size(); ++i)
    note += (i ? "; " : "") + moduleFailures[i];
  return note + ")";
}

constexpr const char* kFirstBoot = "/usr/lib/banger/banger-first-boot";

// In the new root: banger's first-boot step is there, has not finished, and the image
// has no systemd to start its unit (most OCI images).
bool needsFirstBoot() {
  const auto present = [](const char* path) { return ::access(path, X_OK) == 0; };
  return present(kFirstBoot) && present("/bin/sh") &&
         ::access("/var/lib/banger/first-boot.done", F_OK) != 0 &&
         !present("/lib/systemd/systemd") && !present("/usr/lib/systemd/systemd");
}

bool isBlockDevice(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode);
}

// The boot's records (boot_records.h); systemd-tmpfiles would empty /run/utmp once they are
// in it. An administrator's own systemd.conf in /etc wins over /run, so it is left to say.
void keepUtmpFromTmpfiles(const std::string& newRoot) {
  struct stat own {};
  if (::lstat((newRoot + kAdminTmpfiles).c_str(), &own) == 0) return;
  const std::string kept = tmpfilesKeepingUtmp(readWholeFile(newRoot + kVendorTmpfiles));
  if (kept.empty()) return;
  makeDirectory("boot records", std::filesystem::path(kRuntimeTmpfiles).parent_path());
  writeWhole("boot records", kRuntimeTmpfiles, kept);
}

void recordBoot(const std::string& newRoot, const std::string& kernelRelease) {
  try {
    keepUtmpFromTmpfiles(newRoot);
  } catch (const BootStepError& error) {
    std::fprintf(stderr, "banger-init: %s\n", error.what());
  }
  try {
    timeval now{};
    ::gettimeofday(&now, nullptr);
    writeBootRecords(kUtmp, newRoot + kWtmp, kernelRelease,
                     bootRunlevel(newRoot, readWholeFile("/proc/cmdline")), now);
  } catch (const std::runtime_error& error) {
    std::fprintf(stderr, "banger-init: boot records: %s\n", error.what());
  }
}

}  // namespace

void mountApiFilesystems() {
  struct Api {
    const char* path;
    const char* type;
    unsigned long flags;
    const char* data;
  };
  // devtmpfs only where nothing is mounted: a simulated guest must keep the /dev it got.
  static const Api kApis[] = {
      {"/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""},
      {"/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, ""},
      {"/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
      {"/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
  };
  for (const Api& api : kApis) {
    makeDirectory("mounting " + std::string(api.path), api.path);
    if (isMountPoint(api.path)) continue;
    mountOrFail("mounting " + std::string(api.path), api.type, api.path, api.type, api.flags,
                api.data, std::string(api.type) + " on " + api.path);
  }
  if (::fcntl(STDOUT_FILENO, F_GETFD) < 0) {  // the kernel found no /dev/console in our root
    const int console = ::open("/dev/console", O_RDWR | O_NOCTTY);
    if (console >= 0)
      for (int fd = 0; fd <= 2; ++fd)
        if (console != fd) ::dup2(console, fd);
    if (console > 2) ::close(console);
  }
}

std::vector<std::string> loadModules(const std::string& directory) {
  std::vector<std::string> failures;
  DIR* dir = ::opendir(directory.c_str());
  if (!dir) return failures;  // an image booted without banger's initrd has none
  std::vector<std::string> files;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name.size() > 3 && name.ends_with(".ko")) files.push_back(directory + "/" + name);
  }
  ::closedir(dir);
  std::sort(files.begin(), files.end());
  std::vector<ModuleInfo> modules;
  std::vector<std::string> paths;
  for (const std::string& file : files) {
    try {
      modules.push_back(readModuleInfo(readWholeFile(file), moduleNameOf(file)));
      paths.push_back(file);
    } catch (const ModuleInfoError& error) {
      failures.push_back(file + ": " + error.what());
    }
  }
  std::map<std::string, std::string> pathOf;
  for (std::size_t i = 0; i < modules.size(); ++i) pathOf[modules[i].name] = paths[i];
  for (const ModuleInfo& module : loadOrder(modules)) {
    const int fd = ::open(pathOf[module.name].c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      failures.push_back(module.name + ": " + errorText(errno));
      continue;
    }
    if (::syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
      failures.push_back(module.name + ": " + errorText(errno));
    ::close(fd);
  }
  return failures;
}

void waitForDevices(const BootParams& params, const std::vector<std::string>& moduleFailures) {
  const std::pair<std::string, std::string> disks[] = {{params.baseDevice, "banger.base"},
                                                       {params.overlayDevice, "banger.overlay"},
                                                       {params.workDevice, "banger.work"}};
  const auto deadline = std::chrono::steady_clock::now() + kDeviceWait;
  for (;;) {
    std::string missing;
    for (const auto& [device, key] : disks)
      if (!isBlockDevice(device)) missing = device + " (" + key + "=)";
    if (missing.empty() && params.network && ::if_nametoindex("eth0") == 0)
      missing = "eth0 (banger.ip=)";
    if (missing.empty()) return;
    if (std::chrono::steady_clock::now() > deadline)
      throw BootStepError("devices",
                          missing + " did not appear within 10 s" + failuresNote(moduleFailures));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string assembleRoot(const BootParams& params, const std::string& staging,
                         const std::vector<std::string>& moduleFailures) {
  if (readWholeFile("/proc/filesystems").find("\toverlay\n") == std::string::npos)
    throw BootStepError("root",
                        "the overlay filesystem is not available" + failuresNote(moduleFailures));
  makeDirectory("root", staging);
  mountOrFail("root", "banger", staging, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m",
              "tmpfs on " + staging);
  const std::string base = staging + "/base", layer = staging + "/overlay",
                    root = staging + "/root";
  for (const std::string& dir : {base, layer, root}) makeDirectory("root", dir);
  // noload: the base is shared by every VM of the image; nothing may replay its journal.
  mountOrFail("base disk", params.baseDevice, base, params.fsType, MS_RDONLY,
              params.fsType == "ext2" ? "" : "noload",
              params.baseDevice + " (banger.base=) read-only as " + params.fsType);
  mountOrFail("overlay disk", params.overlayDevice, layer, params.fsType, 0, "",
              params.overlayDevice + " (banger.overlay=) as " + params.fsType);
  makeDirectory("overlay disk", layer + "/upper");
  makeDirectory("overlay disk", layer + "/work");
  // redirect_dir and index off: the layers stay plain directories any tool can read.
  mountOrFail("root", "overlay", root, "overlay", 0,
              "lowerdir=" + base + ",upperdir=" + layer + "/upper,workdir=" + layer +
                  "/work,redirect_dir=off,index=off",
              "overlay of " + params.overlayDevice + " over " + params.baseDevice);
  const std::string home = root + "/root";
  makeDirectory("work disk", home, 0700);
  mountOrFail("work disk", params.workDevice, home, params.fsType, 0, "",
              params.workDevice + " (banger.work=) on /root as " + params.fsType);
  // sshd's StrictModes refuses keys under a /root that others can write.
  if (::chown(home.c_str(), 0, 0) != 0 || ::chmod(home.c_str(), 0755) != 0)
    throw BootStepError("work disk", "cannot make /root 0755 root:root: " + errorText(errno));
  return root;
}

void configureGuest(const BootParams& params, const std::string& newRoot) {
  try {
    bringUpLoopback();
    if (params.network) configureInterface("eth0", *params.network);
  } catch (const std::runtime_error& error) {
    throw BootStepError("network", error.what());
  }
  if (!params.hostname.empty()) {
    if (::sethostname(params.hostname.data(), params.hostname.size()) != 0)
      throw BootStepError("hostname", params.hostname + ": " + errorText(errno));
    makeDirectory("hostname", newRoot + "/etc");
    // systemd sets the host name from /etc/hostname at boot, so it must agree.
    writeWhole("hostname", newRoot + "/etc/hostname", params.hostname + "\n");
    // The VM's own name resolves without DNS (Debian's 127.0.1.1 line): git, sudo and
    // others look it up, and would wait for DNS timeouts where no server answers.
    writeWhole("hostname", newRoot + "/etc/hosts",
               hostsWithName(readWholeFile(newRoot + "/etc/hosts"), params.hostname));
  }
  struct utsname name {};
  ::uname(&name);  // fails only for a bad buffer
  // Neither a login banner without its kernel line nor a missing boot record is a reason to
  // end the VM: each is one console line.
  if (bootWritesDynamicMotd(newRoot)) {
    try {
      writeWhole("motd", kDynamicMotd, unameLine(name));
    } catch (const BootStepError& error) {
      std::fprintf(stderr, "banger-init: %s\n", error.what());
    }
  }
  if (bootWritesRecords(newRoot)) recordBoot(newRoot, name.release);
  if (params.network && !params.network->nameservers.empty()) {
    std::string text = "# Written at boot by banger-init from banger.dns=\n";
    for (const Ipv4& server : params.network->nameservers)
      text += "nameserver " + server.str() + "\n";
    makeDirectory("resolv.conf", newRoot + "/etc");
    writeWhole("resolv.conf", newRoot + "/etc/resolv.conf", text);
  }
}

void switchRoot(const std::string& newRoot, const std::string& init, char* const* environment) {
  // A shared / would propagate the moves below back out of the guest (GUEST-SIMULATOR).
  mountOrFail("switching root", "", "/", "", MS_REC | MS_PRIVATE, "", "making / private");
  for (const char* api : {"/dev", "/proc", "/sys", "/run"}) {
    const std::string target = newRoot + api;
    makeDirectory("switching root", target);
    if (isMountPoint(api))
      mountOrFail("switching root", api, target, "", MS_MOVE, "",
                  std::string("moving ") + api + " into the new root");
  }
  if (::chdir(newRoot.c_str()) != 0)
    throw BootStepError("switching root", "chdir " + newRoot + ": " + errorText(errno));
  mountOrFail("switching root", ".", "/", "", MS_MOVE, "", "moving " + newRoot + " onto /");
  if (::chroot(".") != 0 || ::chdir("/") != 0)
    throw BootStepError("switching root", "chroot: " + errorText(errno));
  if (needsFirstBoot()) {
    // No systemd in the image: banger-first-boot installs one (and sshd), then execs
    // `init` itself (docs/images.md).
    std::string next = "BANGER_NEXT_INIT=" + init;
    std::vector<char*> env;
    for (char* const* variable = environment; variable && *variable; ++variable)
      env.push_back(*variable);
    env.push_back(next.data());
    env.push_back(nullptr);
    char* const argv[] = {const_cast<char*>("/bin/sh"), const_cast<char*>(kFirstBoot), nullptr};
    std::fprintf(stderr, "banger-init: the image has no systemd; running %s first\n", kFirstBoot);
    ::execve("/bin/sh", argv, env.data());
    throw BootStepError("init",
                        std::string("exec /bin/sh ") + kFirstBoot + ": " + errorText(errno));
  }
  if (::access(init.c_str(), X_OK) != 0)
    throw BootStepError(
        "init", init + " in the image: " + errorText(errno) + " (banger.init= names another)");
  char* const argv[] = {const_cast<char*>(init.c_str()), nullptr};
  ::execve(init.c_str(), argv, environment);
  throw BootStepError("init", "exec " + init + ": " + errorText(errno));
}

}  // namespace banger::guest
