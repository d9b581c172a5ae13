// A VM's own disks (DESIGN §5), made without root or a mount: the overlay disk (the upper
// and work directories of its overlayfs root, so the shared base is never written) and
// the work disk (/root, from the image's work seed at the VM's disk size). Both are
// sparse ext4 files written in-process; neither copies the base, so making them costs the
// same for a 1 GiB image as for a 16 GiB one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "banger/config.h"
#include "ssh_keys.h"

namespace banger::vm {

struct DiskSet {
  std::filesystem::path overlay;
  std::filesystem::path work;
};

DiskSet disksIn(const std::filesystem::path& machineDir);

// An empty ext4 of `bytes` whose upper layer already holds the VM's SSH host key
// (/etc/ssh/ssh_host_ed25519_key, 0600, and its .pub), so the guest's sshd presents the
// key banger pinned in known_hosts from its first boot.
void createOverlayDisk(const std::filesystem::path& path, uint64_t bytes, const KeyPair& hostKey);

// What provisioning said about entries it skipped (a missing host path).
using Warn = std::function<void(const std::string&)>;

// The image's work seed written into a new ext4 of `bytes` (with a journal: /root is
// where a VM's work happens), then provisioned as provisionWorkDisk does, in one pass.
void createWorkDisk(const std::filesystem::path& path, uint64_t bytes,
                    const std::filesystem::path& workSeed, const std::string& authorizedKey,
                    const std::vector<FileSyncEntry>& fileSync, const Warn& warn);

// Grows the ext4 in `path` (unmounted: the VM is stopped) to `bytes`, offline with
// resize2fs, keeping an undo file beside it until done, so that a service killed mid-way
// leaves something rollBackInterruptedGrowth puts back as it was.
void growDisk(const std::filesystem::path& path, uint64_t bytes);
// A growth that never finished: undone with e2undo and the file cut back to `bytes` (the
// size the record still has). False when there was none.
bool rollBackInterruptedGrowth(const std::filesystem::path& path, uint64_t bytes);

// Bytes the file really occupies (st_blocks), for Stats.
uint64_t allocatedBytes(const std::filesystem::path& path);

// Writes the user's key into the work disk as sshd's StrictModes wants it (/root 0755,
// .ssh 0700, authorized_keys 0600, all root's), then every file_sync entry
// (docs/configuration.md). A missing host path is a warning and the entry is skipped;
// any other problem throws, naming the entry.
void provisionWorkDisk(const std::filesystem::path& work, const std::string& authorizedKey,
                       const std::vector<FileSyncEntry>& fileSync, const Warn& warn);

}  // namespace banger::vm
