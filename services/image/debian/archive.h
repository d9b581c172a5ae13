// Debian's archive as apt trusts it, without apt: each suite's InRelease verified by
// gpgv against the archive keyring, its Packages index checked against the SHA256 the
// signed Release lists, and a package checked against the SHA256 and size its index
// lists (the BlobCache refuses anything else). So a .deb is used only when a signature
// of Debian's vouches for it, through that chain (docs/images.md, "Kernels").
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "banger/http.h"
#include "banger/process.h"

namespace banger::image::debian {

struct Suite {
  std::string mirror;  // "http://deb.debian.org/debian", no trailing '/'
  std::string name;    // "bookworm-security"
};

struct ArchiveOptions {
  std::vector<Suite> suites;
  std::string keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
  std::string component = "main";
  std::string architecture = "amd64";
  std::function<std::int64_t()> now;  // seconds since the epoch; the clock when empty
};

struct PackageEntry {
  std::string package;
  std::string version;
  std::string depends;  // as written in the index
  std::string filename;
  std::uint64_t size = 0;
  std::string sha256;
  Suite suite;  // where the index that lists it came from

  std::string url() const { return suite.mirror + "/" + filename; }
};

class Archive {
 public:
  Archive(const http::Client& http, ProcessRunner& processes, ArchiveOptions options,
          const std::atomic<bool>* cancel);

  // Every entry whose Package starts with `prefix`, from every suite, each suite's index
  // verified first. Throws IntegrityError for a bad signature, an expired or mismatched
  // Release, or an index whose hash differs; Unavailable when a mirror cannot be reached.
  // `progress` gets the bytes of each index as they arrive.
  std::vector<PackageEntry> packages(const std::string& prefix,
                                     const std::function<void(std::uint64_t)>& progress = {});

 private:
  std::string verifiedRelease(const Suite& suite);
  // Hands each stanza of the suite's Packages index to `onStanza`, once its hash matched.
  void index(const Suite& suite, const std::string& release,
             const std::function<void(std::uint64_t)>& progress,
             const std::function<bool(std::string_view)>& onStanza);

  const http::Client& http_;
  ProcessRunner& processes_;
  ArchiveOptions options_;
  const std::atomic<bool>* cancel_;
};

// The newest entry named `package` (dpkg's version order; ties go to the earlier suite).
// NotFound naming the package and the suites searched when there is none.
const PackageEntry& newest(const std::vector<PackageEntry>& entries, const std::string& package);

// The first package that `entry` depends on whose name starts with `prefix`, as listed
// in the same suite at the exact version the dependency pins ("pkg (= 1.2-3)"). NotFound
// when the index does not list it.
const PackageEntry& dependency(const PackageEntry& entry, const std::vector<PackageEntry>& entries,
                               const std::string& prefix);

}  // namespace banger::image::debian
