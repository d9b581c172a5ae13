// Image1.Manager.Pull("debian-bookworm")'s job (DESIGN §6): the default image, built here
// from Debian's signed packages by mmdebstrap — as root in root mode, else in unshare mode
// (user namespaces), else fakechroot mode — its tar streamed straight into the ext4 writer
// under banger's layer, then the work seed. Its kernel is pulled first when missing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "banger/ext4/image_builder.h"
#include "banger/job.h"
#include "kernel/kernel_job.h"

namespace banger::image {

// What the default image holds beyond minbase (docs/images.md).
inline constexpr const char* kDebianImagePackages[] = {
    "systemd",         "systemd-sysv", "dbus",
    "openssh-server",  "git",          "make",
    "build-essential", "curl",         "ca-certificates",
    "iproute2",        "iputils-ping", "less",
    "vim-tiny",        "tmux",         "procps"};

struct DebianImageRequest {
  std::string name;
  std::string kernel;  // recorded as the image's kernel
  bool force = false;
  std::vector<debian::Suite> suites;
  ext4::BuildLimits limits{};
  std::optional<KernelPullRequest> kernelPull{};  // when the kernel is missing
};

// mmdebstrap's --mode for this process: root, unshare or fakechroot (docs/images.md).
std::string mmdebstrapMode();

// Stages: kernel (and the kernel pull's own) when it is missing, mmdebstrap (its phases
// as Detail), write, work-seed, publish. Any failure leaves no image behind.
ImageRecord runDebianImagePull(const DebianImageRequest& request, KernelEnvironment& env,
                               JobContext& job);

}  // namespace banger::image
