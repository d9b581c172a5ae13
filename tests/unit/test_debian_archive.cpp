// Debian's archive as banger trusts it: deb822 stanzas and Release files, dpkg's version
// order, and the whole chain against a mirror on loopback signed by a key made for the
// test — a good suite is read; an index that differs from its signed hash, a Release
// signed by another key or not at all, one for another suite, and an expired one are
// refused, each naming what was wrong.
#include <gtest/gtest.h>

#include "banger/errors.h"
#include "banger/process.h"
#include "debian/archive.h"
#include "debian/deb822.h"
#include "harness.h"
#include "oci/sha256.h"

namespace banger::image::debian {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST(Deb822, StanzasAndFieldsWithContinuationLines) {
  const std::string text =
      "Package: a\nVersion: 1.0\nDescription: short\n more\n .\n end\n\n\n"
      "package: b\nDepends: x (>= 1), y\n";
  std::vector<std::string> names;
  forEachStanza(text, [&](std::string_view stanza) {
    names.push_back(field(stanza, "Package").value_or("?"));
    return true;
  });
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
  std::string first;
  forEachStanza(text, [&](std::string_view stanza) {
    first = stanza;
    return false;
  });
  EXPECT_EQ(field(first, "description"), "short\nmore\n\nend");
  EXPECT_EQ(field(first, "Missing"), std::nullopt);
  EXPECT_EQ(field("Packages: x\nPackage: y\n", "Package"), "y");
}

TEST(Deb822, ReleaseFilesAreReadAndMalformedOnesRefused) {
  const std::string sums =
      "SHA256:\n 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  42 "
      "main/binary-amd64/Packages.xz\n";
  const Release release = parseRelease(
      "Suite: oldstable\nCodename: bookworm\nDate: Sat, 11 Jul 2026 10:16:37 UTC\n"
      "Valid-Until: Tue, 08 Dec 2026 01:33:13 UTC\n" +
      sums);
  EXPECT_EQ(release.codename, "bookworm");
  EXPECT_EQ(release.date, 1783764997);  // 2026-07-11T10:16:37Z
  EXPECT_EQ(release.validUntil, 1796693593);
  ASSERT_EQ(release.sha256.size(), 1u);
  EXPECT_EQ(release.sha256[0].size, 42u);
  EXPECT_EQ(release.sha256[0].path, "main/binary-amd64/Packages.xz");
  const auto why = [](const std::string& text) {
    try {
      parseRelease(text);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_NE(why("Suite: x\n" + sums).find("has no Date"), std::string::npos);
  EXPECT_NE(why("Date: yesterday\n" + sums).find("not an RFC 2822"), std::string::npos);
  EXPECT_NE(why("Date: Sat, 11 Jul 2026 10:16:37 UTC\n").find("no SHA256"), std::string::npos);
  EXPECT_NE(
      why("Date: Sat, 11 Jul 2026 10:16:37 UTC\nSHA256:\n xyz 1 a\n").find("malformed SHA256"),
      std::string::npos);
}

TEST(DebianVersions, OrderAsDpkgOrdersThem) {
  const std::pair<const char*, const char*> older[] = {{"6.1.158-1", "6.1.192-3"},
                                                       {"1.0~rc1", "1.0"},
                                                       {"1.0", "1.0+b1"},
                                                       {"1.0-1", "1.0-1+b1"},
                                                       {"2.0", "1:0.1"},
                                                       {"1.0a", "1.0b"},
                                                       {"1.0", "1.0a"},
                                                       {"1.9", "1.10"},
                                                       {"1.0~~", "1.0~"},
                                                       {"0:1.0", "1.0-1"},
                                                       {"6.1.0-57", "6.1.0-57.1"}};
  for (const auto& [a, b] : older) {
    EXPECT_LT(compareVersions(a, b), 0) << a << " < " << b;
    EXPECT_GT(compareVersions(b, a), 0) << b << " > " << a;
  }
  EXPECT_EQ(compareVersions("1.0-1", "1.0-1"), 0);
  EXPECT_EQ(compareVersions("01.0", "1.0"), 0);
  EXPECT_TRUE(isValidVersion("1:6.1.192-3"));
  EXPECT_FALSE(isValidVersion(""));
  EXPECT_FALSE(isValidVersion("a1.0"));
  EXPECT_FALSE(isValidVersion("1.0 beta"));
  EXPECT_FALSE(isValidVersion("x:1.0"));
}

// A one-suite archive on loopback, signed with a key made for the test.
class SignedMirror : public ::testing::Test {
 protected:
  void SetUp() override {
    gnupg_ = dir_.path() / "gnupg";
    fs::create_directories(gnupg_);
    fs::permissions(gnupg_, fs::perms::owner_all);
    gpg({"--quick-gen-key", "banger test <test@example>", "ed25519", "sign", "never"});
    gpg({"--output", (dir_.path() / "trusted.gpg").string(), "--export"});
    root_ = dir_.path() / "root";
    writeIndex(
        "Package: linux-image-cloud-amd64\nVersion: 6.1.192-3\n"
        "Depends: linux-image-6.1.0-57-cloud-amd64 (= 6.1.192-3)\n"
        "Filename: pool/meta.deb\nSize: 10\nSHA256: " +
        std::string(64, 'a') + "\n\n" +
        "Package: linux-image-6.1.0-57-cloud-amd64\nVersion: 6.1.192-3\n"
        "Filename: pool/kernel.deb\nSize: 20\nSHA256: " +
        std::string(64, 'b') + "\n\n" +
        "Package: linux-image-cloud-amd64\nVersion: 6.1.158-1\n"
        "Depends: linux-image-6.1.0-40-cloud-amd64 (= 6.1.158-1)\n"
        "Filename: pool/old.deb\nSize: 10\nSHA256: " +
        std::string(64, 'c') + "\n\n" +
        "Package: hello\nVersion: 1\nFilename: pool/hello.deb\nSize: 1\nSHA256: " +
        std::string(64, 'd') + "\n");
    sign("bookworm", "Tue, 01 Dec 2026 00:00:00 UTC", "Tue, 08 Dec 2099 00:00:00 UTC");
    port_ = test::freeLoopbackPort();
    const fs::path log = dir_.path() / "mirror.log";
    pid_ = test::spawnBackground({"python3", BANGER_SOURCE_DIR "/tests/support/archive_mirror.py",
                                  std::to_string(port_), root_.string(), "-"},
                                 {}, log);
    ASSERT_TRUE(
        test::waitFor([&] { return test::readFile(log).find("ready") != std::string::npos; }, 10s))
        << test::readFile(log);
  }
  void TearDown() override {
    if (pid_ > 0) test::stopProcess(pid_);
  }

  void gpg(std::vector<std::string> args, const std::string& home = "") {
    std::vector<std::string> argv = {"gpg",
                                     "--batch",
                                     "--quiet",
                                     "--homedir",
                                     home.empty() ? gnupg_.string() : home,
                                     "--pinentry-mode",
                                     "loopback",
                                     "--passphrase",
                                     ""};
    argv.insert(argv.end(), args.begin(), args.end());
    const ProcessResult result = SystemProcessRunner().run(Command(argv));
    ASSERT_EQ(result.exitCode, 0) << result.err;
  }
  fs::path dists() const { return root_ / "debian/dists/bookworm"; }
  void writeIndex(const std::string& packages) {
    fs::create_directories(dists() / "main/binary-amd64");
    test::writeFile(dists() / "main/binary-amd64/Packages", packages);
    index_ = packages;
  }
  // Writes and clearsigns dists/bookworm/InRelease for `suite`, listing the index.
  void sign(const std::string& suite, const std::string& date, const std::string& validUntil,
            const std::string& home = "", bool byHash = false) {
    const std::string release = "Suite: oldstable\nCodename: " + suite + "\nDate: " + date +
                                "\nValid-Until: " + validUntil +
                                (byHash ? "\nAcquire-By-Hash: yes" : "") + "\nSHA256:\n " +
                                oci::sha256Digest(index_).substr(7) + " " +
                                std::to_string(index_.size()) + " main/binary-amd64/Packages\n";
    test::writeFile(dir_.path() / "Release", release);
    fs::remove(dists() / "InRelease");
    gpg({"--digest-algo", "SHA256", "--output", (dists() / "InRelease").string(), "--clearsign",
         (dir_.path() / "Release").string()},
        home);
  }
  std::vector<PackageEntry> read(const std::string& prefix) {
    ArchiveOptions options;
    options.suites = {{"http://127.0.0.1:" + std::to_string(port_) + "/debian", "bookworm"}};
    options.keyring = (dir_.path() / "trusted.gpg").string();
    options.now = [] { return std::int64_t{1796083200}; };  // 2026-12-01
    Archive archive(http_, processes_, options, nullptr);
    return archive.packages(prefix);
  }
  std::string refusal(const std::string& prefix = "linux-image-") {
    try {
      read(prefix);
    } catch (const Error& error) {
      return std::string(errorName(error.code())) + ": " + error.what();
    }
    return "(accepted)";
  }

  test::TempDir dir_;
  fs::path gnupg_, root_;
  std::string index_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  http::Client http_;
  SystemProcessRunner processes_;
};

TEST_F(SignedMirror, AGoodSuiteGivesTheNewestKernelAndItsPinnedPackage) {
  const auto entries = read("linux-image-");
  ASSERT_EQ(entries.size(), 3u);
  const PackageEntry& meta = newest(entries, "linux-image-cloud-amd64");
  EXPECT_EQ(meta.version, "6.1.192-3");
  const PackageEntry& kernel = dependency(meta, entries, "linux-image-");
  EXPECT_EQ(kernel.package, "linux-image-6.1.0-57-cloud-amd64");
  EXPECT_EQ(kernel.size, 20u);
  EXPECT_EQ(kernel.url(), "http://127.0.0.1:" + std::to_string(port_) + "/debian/pool/kernel.deb");
  const auto old = std::find_if(entries.begin(), entries.end(),
                                [](const auto& e) { return e.version == "6.1.158-1"; });
  ASSERT_NE(old, entries.end());
  EXPECT_NE(
      [&] {
        try {
          dependency(*old, entries, "linux-image-");
        } catch (const Error& error) {
          return std::string(error.what());
        }
        return std::string();
      }()
          .find("depends on linux-image-6.1.0-40-cloud-amd64 6.1.158-1, which"),
      std::string::npos);
}

TEST_F(SignedMirror, AnIndexThatDiffersFromItsSignedHashIsRefused) {
  test::writeFile(dists() / "main/binary-amd64/Packages", index_ + "\nPackage: evil\n");
  const std::string why = refusal();
  EXPECT_EQ(why.rfind("org.banger.Error.IntegrityError", 0), 0u) << why;
  EXPECT_NE(why.find("Packages is longer than the signed Release says"), std::string::npos) << why;
  test::writeFile(dists() / "main/binary-amd64/Packages",
                  std::string(index_).replace(index_.find("6.1.192-3"), 9, "9.9.999-9"));
  EXPECT_NE(refusal().find("does not match the SHA256 of the signed Release"), std::string::npos);
}

// A mirror mid-update serves a newer Packages under its plain name than its InRelease
// lists; by-hash names never change, so an archive that offers them is read through them.
TEST_F(SignedMirror, AnArchiveWithAcquireByHashIsReadByHashSoAMirrorMidUpdateDoesNotMatter) {
  const std::string signedIndex = index_;
  fs::create_directories(dists() / "main/binary-amd64/by-hash/SHA256");
  test::writeFile(
      dists() / "main/binary-amd64/by-hash/SHA256" / oci::sha256Digest(signedIndex).substr(7),
      signedIndex);
  sign("bookworm", "Tue, 01 Dec 2026 00:00:00 UTC", "Tue, 08 Dec 2099 00:00:00 UTC", "", true);
  test::writeFile(dists() / "main/binary-amd64/Packages", signedIndex + "\nPackage: newer\n");
  EXPECT_EQ(read("linux-image-").size(), 3u);
}

TEST_F(SignedMirror, AReleaseSignedByAnotherKeyOrNotAtAllIsRefused) {
  const fs::path stranger = dir_.path() / "stranger";
  fs::create_directories(stranger);
  fs::permissions(stranger, fs::perms::owner_all);
  gpg({"--quick-gen-key", "stranger <s@example>", "ed25519", "sign", "never"}, stranger.string());
  sign("bookworm", "Tue, 01 Dec 2026 00:00:00 UTC", "Tue, 08 Dec 2099 00:00:00 UTC",
       stranger.string());
  std::string why = refusal();
  EXPECT_NE(why.find("InRelease is not signed by a key in"), std::string::npos) << why;
  test::writeFile(dists() / "InRelease", test::readFile(dir_.path() / "Release"));
  why = refusal();
  EXPECT_NE(why.find("InRelease is not signed by a key in"), std::string::npos) << why;
  // A signed text whose content was changed afterwards: gpgv still prints it, banger
  // must not read it.
  sign("bookworm", "Tue, 01 Dec 2026 00:00:00 UTC", "Tue, 08 Dec 2099 00:00:00 UTC");
  const std::string signedText = test::readFile(dists() / "InRelease");
  test::writeFile(dists() / "InRelease",
                  std::string(signedText).replace(signedText.find("Codename"), 8, "codename"));
  why = refusal();
  EXPECT_NE(why.find("a signature is bad"), std::string::npos) << why;
}

TEST_F(SignedMirror, AnExpiredReleaseOrOneForAnotherSuiteIsRefused) {
  sign("bookworm", "Tue, 01 Dec 2026 00:00:00 UTC", "Tue, 08 Dec 2020 00:00:00 UTC");
  std::string why = refusal();
  EXPECT_NE(why.find("expired on 2020-12-08 00:00 UTC: the mirror serves stale data"),
            std::string::npos)
      << why;
  sign("trixie", "Tue, 01 Dec 2026 00:00:00 UTC", "Tue, 08 Dec 2099 00:00:00 UTC");
  why = refusal();
  EXPECT_NE(why.find("is signed for suite trixie/oldstable, not bookworm"), std::string::npos)
      << why;
}

TEST_F(SignedMirror, AnUnreachableMirrorIsUnavailable) {
  test::stopProcess(pid_);
  pid_ = -1;
  const std::string why = refusal();
  EXPECT_EQ(why.rfind("org.banger.Error.Unavailable", 0), 0u) << why;
}

}  // namespace
}  // namespace banger::image::debian
