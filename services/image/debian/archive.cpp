#include "archive.h"

#include <chrono>
#include <ctime>

#include "banger/errors.h"
#include "deb822.h"
#include "inflate.h"
#include "oci/sha256.h"

namespace banger::image::debian {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kMaxRelease = 4 << 20;
constexpr std::uint64_t kMaxIndex = 256ull << 20;  // main's Packages.xz is ~9 MB, 45 MB inflated

std::string dateText(std::int64_t seconds) {
  const std::time_t time = seconds;
  std::tm parts{};
  ::gmtime_r(&time, &parts);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &parts);
  return text;
}

http::Request get(const std::string& url, std::uint64_t maxBytes) {
  http::Request request;
  request.url = url;
  request.maxBodyBytes = maxBytes;
  request.lowSpeedWindow = 30s;
  request.maxRedirects = 5;
  return request;
}

// The suite's index handed over stanza by stanza as it inflates: main's 45 MB of
// Packages never sit in memory whole.
void scanIndex(const std::string& bytes, const std::string& what,
               const std::function<bool(std::string_view)>& onStanza) {
  std::string pending;
  inflate(bytes, kMaxIndex, "256 MiB", ErrorCode::IntegrityError, what,
          [&](std::string_view chunk) {
            pending.append(chunk);
            const std::size_t complete = pending.rfind("\n\n");
            if (complete == std::string::npos) return;
            forEachStanza(std::string_view(pending).substr(0, complete + 1), onStanza);
            pending.erase(0, complete + 2);
          });
  forEachStanza(pending, onStanza);
}

std::string packageLabel(const Suite& suite) { return suite.mirror + " " + suite.name; }

}  // namespace

Archive::Archive(const http::Client& http, ProcessRunner& processes, ArchiveOptions options,
                 const std::atomic<bool>* cancel)
    : http_(http), processes_(processes), options_(std::move(options)), cancel_(cancel) {
  if (!options_.now) options_.now = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
}

std::string Archive::verifiedRelease(const Suite& suite) {
  const std::string url = suite.mirror + "/dists/" + suite.name + "/InRelease";
  const http::Request request = get(url, kMaxRelease);
  const http::Response response = http_.fetch(request, cancel_);
  http::requireSuccess(request, response);

  // gpgv writes the signed text even when a signature is bad: only its status lines and
  // exit code decide, and only the text it printed is read after that.
  Command gpgv({"gpgv", "--status-fd", "2", "--keyring", options_.keyring, "--output", "-"});
  gpgv.stdinData = response.body;
  gpgv.timeout = 60s;
  const ProcessResult result = processes_.run(gpgv);
  bool good = false, bad = false;
  std::string_view status = result.err;
  while (!status.empty()) {
    const std::size_t newline = status.find('\n');
    const std::string_view line = status.substr(0, newline);
    status.remove_prefix(newline == std::string_view::npos ? status.size() : newline + 1);
    if (line.starts_with("[GNUPG:] VALIDSIG ")) good = true;
    if (line.starts_with("[GNUPG:] BADSIG ") || line.starts_with("[GNUPG:] EXPKEYSIG ") ||
        line.starts_with("[GNUPG:] REVKEYSIG ") || line.starts_with("[GNUPG:] EXPSIG "))
      bad = true;
  }
  if (!result.ok() || !good || bad)
    fail(ErrorCode::IntegrityError,
         url + " is not signed by a key in " + options_.keyring +
             (bad ? " (a signature is bad or its key expired or revoked)" : "") +
             "; refusing the suite (is the mirror intercepted, or debian-archive-keyring old?)");

  const Release release = parseRelease(result.out);
  if (release.suite != suite.name && release.codename != suite.name)
    fail(ErrorCode::IntegrityError, url + " is signed for suite " + release.codename + "/" +
                                        release.suite + ", not " + suite.name);
  if (release.validUntil != 0 && options_.now() > release.validUntil)
    fail(ErrorCode::IntegrityError, url + " expired on " + dateText(release.validUntil) +
                                        ": the mirror serves stale data (or this clock is wrong)");
  return result.out;
}

void Archive::index(const Suite& suite, const std::string& releaseText,
                    const std::function<void(std::uint64_t)>& progress,
                    const std::function<bool(std::string_view)>& onStanza) {
  const Release release = parseRelease(releaseText);
  const std::string base = options_.component + "/binary-" + options_.architecture + "/Packages";
  for (const char* suffix : {".xz", ".gz", ""}) {
    for (const IndexFile& file : release.sha256) {
      if (file.path != base + suffix) continue;
      if (file.size > kMaxIndex)
        fail(ErrorCode::IntegrityError, packageLabel(suite) + ": " + file.path + " is too large");
      const std::size_t slash = file.path.rfind('/');
      const std::string path = release.acquireByHash && slash != std::string::npos
                                   ? file.path.substr(0, slash) + "/by-hash/SHA256/" + file.sha256
                                   : file.path;
      const std::string url = suite.mirror + "/dists/" + suite.name + "/" + path;
      // Errors name the index itself, also when it was fetched under its hash.
      const std::string label = path == file.path ? url : url + " (" + file.path + ")";
      const http::Request request = get(url, file.size);
      std::string bytes;
      oci::Sha256 hash;
      const http::Response response = http_.stream(
          request,
          [&](std::string_view chunk) {
            if (bytes.size() + chunk.size() > file.size)
              fail(ErrorCode::IntegrityError, label + " is longer than the signed Release says");
            bytes.append(chunk);
            hash.update(chunk);
            if (progress) progress(chunk.size());
          },
          cancel_);
      http::requireSuccess(request, response);
      if (bytes.size() != file.size || hash.digest() != "sha256:" + file.sha256)
        fail(ErrorCode::IntegrityError, label + " does not match the SHA256 of the signed Release");
      scanIndex(bytes, url, onStanza);
      return;
    }
  }
  fail(ErrorCode::NotFound, packageLabel(suite) + " has no " + base + " index");
}

std::vector<PackageEntry> Archive::packages(const std::string& prefix,
                                            const std::function<void(std::uint64_t)>& progress) {
  std::vector<PackageEntry> entries;
  for (const Suite& suite : options_.suites) {
    if (cancel_ && cancel_->load()) fail(ErrorCode::Canceled, "canceled");
    index(suite, verifiedRelease(suite), progress, [&](std::string_view stanza) {
      const std::size_t nameAt = stanza.find("Package: " + prefix);
      if (nameAt != 0 && (nameAt == std::string_view::npos || stanza[nameAt - 1] != '\n'))
        return true;
      PackageEntry entry;
      entry.package = field(stanza, "Package").value_or("");
      if (!entry.package.starts_with(prefix)) return true;
      entry.version = field(stanza, "Version").value_or("");
      entry.depends = field(stanza, "Depends").value_or("");
      entry.filename = field(stanza, "Filename").value_or("");
      entry.sha256 = field(stanza, "SHA256").value_or("");
      const std::string size = field(stanza, "Size").value_or("");
      const bool sizeOk = !size.empty() && size.size() < 16 &&
                          size.find_first_not_of("0123456789") == std::string::npos;
      if (!isValidVersion(entry.version) || !sizeOk || entry.sha256.size() != 64 ||
          entry.filename.empty() || entry.filename.find("..") != std::string::npos ||
          entry.filename.front() == '/')
        fail(ErrorCode::IntegrityError,
             packageLabel(suite) + ": the index entry of " + entry.package + " is malformed");
      entry.size = std::stoull(size);
      entry.suite = suite;
      entries.push_back(std::move(entry));
      return true;
    });
  }
  return entries;
}

const PackageEntry& newest(const std::vector<PackageEntry>& entries, const std::string& package) {
  const PackageEntry* best = nullptr;
  for (const PackageEntry& entry : entries)
    if (entry.package == package && (!best || compareVersions(entry.version, best->version) > 0))
      best = &entry;
  if (!best) fail(ErrorCode::NotFound, "no package " + package + " in the suites searched");
  return *best;
}

const PackageEntry& dependency(const PackageEntry& entry, const std::vector<PackageEntry>& entries,
                               const std::string& prefix) {
  std::string_view rest = entry.depends;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    std::string_view clause = rest.substr(0, comma);
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    clause.remove_prefix(std::min(clause.find_first_not_of(" \n"), clause.size()));
    const std::string_view name = clause.substr(0, clause.find_first_of(" (|"));
    if (!name.starts_with(prefix)) continue;
    std::string pinned;
    if (const std::size_t eq = clause.find("(= "); eq != std::string_view::npos) {
      const std::size_t close = clause.find(')', eq);
      pinned =
          std::string(clause.substr(eq + 3, close == std::string_view::npos ? 0 : close - eq - 3));
    }
    for (const PackageEntry& candidate : entries)
      if (candidate.package == name && candidate.suite.name == entry.suite.name &&
          candidate.suite.mirror == entry.suite.mirror &&
          (pinned.empty() || candidate.version == pinned))
        return candidate;
    fail(ErrorCode::NotFound, entry.package + " " + entry.version + " depends on " +
                                  std::string(name) + (pinned.empty() ? "" : " " + pinned) +
                                  ", which " + packageLabel(entry.suite) + " does not list");
  }
  fail(ErrorCode::NotFound,
       entry.package + " " + entry.version + " depends on no " + prefix + "* package");
}

}  // namespace banger::image::debian
