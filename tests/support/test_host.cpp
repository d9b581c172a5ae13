#include "test_host.h"

#include <pwd.h>
#include <unistd.h>

#include "banger/process.h"
#include "harness.h"

namespace banger::test {
namespace {

const char* const kMembers[] = {"banger-t1", "banger-t2", "banger-t3", "banger-t4", "banger-t5"};
const char* const kOutsider = "banger-tout";

void mustRun(const std::vector<std::string>& argv) {
  const auto r = SystemProcessRunner().run(Command(argv));
  if (!r.ok()) throw std::runtime_error(argv[0] + " " + argv.back() + ": " + r.err);
}

TestUser ensureUser(const std::string& name, bool inGroup) {
  if (getpwnam(name.c_str()) == nullptr) {
    std::vector<std::string> argv{"useradd", "--system", "--no-create-home", "--shell",
                                  "/usr/sbin/nologin"};
    if (inGroup) argv.insert(argv.end(), {"--groups", "banger"});
    argv.push_back(name);
    mustRun(argv);
  }
  const passwd* pw = getpwnam(name.c_str());
  return {name, pw->pw_uid, pw->pw_gid};
}

}  // namespace

void TestHost::SetUp() {
  if (geteuid() != 0) return;
  mustRun({"groupadd", "-f", "--system", "banger"});
  for (const char* name : kMembers) members.push_back(ensureUser(name, true));
  outsider = ensureUser(kOutsider, false);
  const std::filesystem::path tree = std::string(BANGER_SOURCE_DIR) + "/dbus-policy";
  aside_ =
      std::filesystem::temp_directory_path() / ("banger-test-polkit-" + std::to_string(getpid()));
  install(tree / "org.banger.Net.policy", "/usr/share/polkit-1/actions/org.banger.Net.policy");
  install(tree / "50-org.banger.Net.rules", "/usr/share/polkit-1/rules.d/50-org.banger.Net.rules");
  tunMode_ = std::filesystem::status("/dev/net/tun").permissions();
  std::filesystem::permissions("/dev/net/tun", std::filesystem::perms(0666));
}

void TestHost::install(const std::filesystem::path& from, const std::filesystem::path& to) {
  Installed entry{to, {}};
  if (std::filesystem::exists(to)) {
    std::filesystem::create_directories(aside_);
    entry.original = aside_ / to.filename();
    std::filesystem::rename(to, entry.original);
  }
  std::filesystem::create_directories(to.parent_path());
  std::filesystem::copy_file(from, to);
  installed_.push_back(entry);
}

void TestHost::TearDown() {
  if (geteuid() != 0) return;
  for (const auto& entry : installed_) {
    std::filesystem::remove(entry.file);
    if (!entry.original.empty()) std::filesystem::rename(entry.original, entry.file);
  }
  std::filesystem::remove_all(aside_);
  std::filesystem::permissions("/dev/net/tun", tunMode_);
}

TestHost& testHost() {
  static TestHost* host = static_cast<TestHost*>(::testing::AddGlobalTestEnvironment(new TestHost));
  return *host;
}

}  // namespace banger::test
