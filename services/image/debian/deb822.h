// Debian's control-file format (deb822) as the archive serves it: Release files and
// Packages indices, read without building a map of every stanza (a Packages index has
// tens of thousands), and dpkg's version ordering to pick the newest of several suites.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace banger::image::debian {

// Calls `onStanza` with each paragraph of `text` (separated by blank lines); stops early
// when it returns false.
void forEachStanza(std::string_view text, const std::function<bool(std::string_view)>& onStanza);

// The value of `name` in one stanza (names compare case-insensitively, as deb822 says),
// continuation lines joined with '\n' and the leading space of each dropped; nullopt
// when absent.
std::optional<std::string> field(std::string_view stanza, std::string_view name);

struct IndexFile {
  std::string path;  // "main/binary-amd64/Packages.xz", relative to dists/<suite>/
  std::uint64_t size = 0;
  std::string sha256;  // lower-case hex
};

struct Release {
  std::string suite;
  std::string codename;
  std::int64_t date = 0;        // seconds since the epoch
  std::int64_t validUntil = 0;  // 0 when the Release has no Valid-Until
  // "Acquire-By-Hash: yes": each index is also at <dir>/by-hash/SHA256/<hash>, a name that
  // never changes, so a mirror caught mid-update cannot hand out a newer index than its
  // Release lists (apt's "Hash Sum mismatch").
  bool acquireByHash = false;
  std::vector<IndexFile> sha256;
};

// A (verified) Release file. Throws IntegrityError naming the field that is missing or
// malformed.
Release parseRelease(std::string_view text);

// An RFC 2822 date as Release files write it ("Tue, 08 Dec 2026 01:33:13 UTC").
std::optional<std::int64_t> parseReleaseDate(std::string_view text);

// dpkg's ordering of versions ([epoch:]upstream[-revision], '~' before everything):
// negative, zero or positive as `a` is older than, equal to or newer than `b`.
int compareVersions(std::string_view a, std::string_view b);

// Whether `version` is well-formed as dpkg reads it.
bool isValidVersion(std::string_view version);

}  // namespace banger::image::debian
