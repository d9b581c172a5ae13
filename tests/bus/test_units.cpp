// systemd units from units/: `systemd-analyze verify` on each, and the exposure score of
// banger-net.service, which must stay at or below 2.0.
#include <gtest/gtest.h>

#include <regex>

#include "banger/files.h"
#include "banger/process.h"
#include "harness.h"

using namespace banger;
using namespace banger::test;

namespace {
std::filesystem::path materialise(const TempDir& dir, const std::string& unit) {
  const std::filesystem::path source = std::string(BANGER_SOURCE_DIR) + "/units/";
  const auto libexec = dir.path() / "libexec";
  if (!std::filesystem::exists(libexec)) makeLibexec(dir.path());
  std::string text = std::filesystem::exists(source / (unit + ".in"))
                         ? readFile(source / (unit + ".in"))
                         : readFile(source / unit);
  text = replaceAll(replaceAll(text, "@LIBEXECDIR@", libexec.string()), "@DOCDIR@",
                    "/usr/share/doc/banger");
  const auto out = dir.path() / "units" / unit;
  writeFile(out, text);
  return out;
}

bool haveSystemdAnalyze() { return !findExecutable("systemd-analyze", "/usr/bin:/bin").empty(); }
}  // namespace

TEST(Units, EveryUnitVerifies) {
  ASSERT_TRUE(haveSystemdAnalyze())
      << "systemd-analyze is missing; scripts/install-deps.sh installs systemd";
  TempDir dir;
  std::vector<std::filesystem::path> units;
  for (const auto& u :
       {"banger-vm.service", "banger-image.service", "banger-dns.service", "banger-net.service"}) {
    units.push_back(materialise(dir, u));
  }
  SystemProcessRunner runner;
  for (const auto& unit : units) {
    Command verify{{"systemd-analyze", "verify", unit.string()}};
    verify.workingDirectory = unit.parent_path().string();
    const auto r = runner.run(verify);
    EXPECT_TRUE(r.ok()) << unit.filename() << ":\n" << r.out << r.err;
    EXPECT_EQ(r.err, "") << unit.filename();
  }
}

TEST(Units, NetServiceExposureIsAtMostTwo) {
  ASSERT_TRUE(haveSystemdAnalyze());
  TempDir dir;
  const auto unit = materialise(dir, "banger-net.service");
  SystemProcessRunner runner;
  const auto r = runner.run({{"systemd-analyze", "security", "--offline=yes", unit.string()}});
  std::smatch m;
  const std::regex overall(R"(Overall exposure level for banger-net\.service: ([0-9.]+))");
  ASSERT_TRUE(std::regex_search(r.out, m, overall)) << r.out << r.err;
  const double score = std::stod(m[1]);
  std::cout << "systemd-analyze security --offline=yes banger-net.service: " << score << "\n";
  EXPECT_LE(score, 2.0);
}
