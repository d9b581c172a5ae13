#include <gtest/gtest.h>

#include "banger/config.h"
#include "banger/errors.h"

using namespace banger;

namespace {
const std::filesystem::path kHome = "/home/ada";

std::string errorOf(const std::string& text) {
  try {
    parseConfig(text, "config.toml", kHome);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return {};
}

std::string fileSync(const std::string& host, const std::string& guest,
                     const std::string& mode = "") {
  return "[[file_sync]]\nhost = \"" + host + "\"\nguest = \"" + guest + "\"\n" +
         (mode.empty() ? "" : "mode = " + mode + "\n");
}
}  // namespace

TEST(Config, EmptyTextIsAllDefaults) {
  const Config c = parseConfig("", "config.toml", kHome);
  EXPECT_FALSE(c.defaultImage);
  EXPECT_FALSE(c.vmDefaults.vcpu);
  EXPECT_TRUE(c.fileSync.empty());
}

TEST(Config, ReadsEveryKey) {
  const Config c = parseConfig(R"(
default_image = "alpine"
default_kernel = "ci-6.1"
ssh_key_path = "~/.ssh/id_ed25519"
firecracker_bin = "/opt/fc/firecracker"
log_level = "debug"
[vm_defaults]
vcpu = 2
memory_mib = 2048
disk_size = "16G"
[[file_sync]]
host = "~/.gitconfig"
guest = "~/.gitconfig"
mode = "0644"
[[file_sync]]
host = "/etc/hosts"
guest = "/root/hosts"
)",
                               "config.toml", kHome);
  EXPECT_EQ(c.defaultImage, "alpine");
  EXPECT_EQ(c.defaultKernel, "ci-6.1");
  EXPECT_EQ(c.sshKeyPath, "/home/ada/.ssh/id_ed25519");
  EXPECT_EQ(c.firecrackerBin, "/opt/fc/firecracker");
  EXPECT_EQ(c.logLevel, "debug");
  EXPECT_EQ(c.vmDefaults.vcpu, 2U);
  EXPECT_EQ(c.vmDefaults.memoryMib, 2048U);
  EXPECT_EQ(c.vmDefaults.diskBytes, 16ULL << 30);
  ASSERT_EQ(c.fileSync.size(), 2U);
  EXPECT_EQ(c.fileSync[0].host, "/home/ada/.gitconfig");
  EXPECT_EQ(c.fileSync[0].guest, "~/.gitconfig");
  EXPECT_EQ(c.fileSync[0].mode, 0644U);
  EXPECT_FALSE(c.fileSync[1].mode);
}

TEST(Config, ErrorsNameTheKey) {
  EXPECT_NE(errorOf("defualt_image = \"x\"").find("defualt_image: unknown key"), std::string::npos);
  EXPECT_NE(errorOf("default_image = 3").find("default_image: must be a string"),
            std::string::npos);
  EXPECT_NE(errorOf("log_level = \"loud\"").find("log_level"), std::string::npos);
  EXPECT_NE(errorOf("[vm_defaults]\nvcpu = 0").find("vm_defaults.vcpu"), std::string::npos);
  EXPECT_NE(errorOf("[vm_defaults]\nvcpu = \"two\"").find("vm_defaults.vcpu: must be an integer"),
            std::string::npos);
  EXPECT_NE(errorOf("[vm_defaults]\nmemory_mib = 64").find("vm_defaults.memory_mib"),
            std::string::npos);
  EXPECT_NE(errorOf("[vm_defaults]\ndisk_size = \"lots\"").find("vm_defaults.disk_size"),
            std::string::npos);
  EXPECT_NE(errorOf("[vm_defaults]\ncpus = 2").find("vm_defaults.cpus: unknown key"),
            std::string::npos);
  EXPECT_NE(errorOf("vm_defaults = 3").find("vm_defaults: must be a table"), std::string::npos);
  EXPECT_NE(errorOf("default_image = ").find("config.toml: line 1"), std::string::npos);
}

TEST(Config, FileSyncShapesAreRefusedNamingTheEntry) {
  const std::string good = fileSync("~/.gitconfig", "~/.gitconfig");
  struct Case {
    std::string text;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {fileSync("", "~/x"), "file_sync entry 2, key 'host': is empty"},
      {fileSync("~/x", ""), "file_sync entry 2, key 'guest': is empty"},
      {fileSync("relative/file", "~/x"),
       "file_sync entry 2, key 'host': 'relative/file' is relative"},
      {fileSync("~/x", "/etc/passwd"),
       "file_sync entry 2, key 'guest': '/etc/passwd' is outside the guest home"},
      {fileSync("~/x", "/rootkit/x"), "is outside the guest home"},
      {fileSync("~/x", "~/"), "is outside the guest home"},
      {fileSync("~/x", "/root/../etc/passwd"),
       "file_sync entry 2, key 'guest': '/root/../etc/passwd' must not contain '..'"},
      {fileSync("/home/ada/../bob/x", "~/x"),
       "file_sync entry 2, key 'host': '/home/ada/../bob/x' must not contain '..'"},
      {fileSync("~bob/.ssh/id", "~/id"), "file_sync entry 2, key 'host': '~bob/.ssh/id': only ~/"},
      {fileSync("~/x", "~bob/x"), "file_sync entry 2, key 'guest': '~bob/x': only ~/"},
      {fileSync("~/x", "~/x", "\"0999\""),
       "file_sync entry 2, key 'mode': must be an octal permission"},
      {fileSync("~/x", "~/x", "\"rw-r--r--\""), "key 'mode': must be an octal permission"},
      {fileSync("~/x", "~/x", "\"01777\""), "key 'mode': must be an octal permission"},
      {fileSync("~/x", "~/x", "true"), "key 'mode': must be an octal permission"},
      {"[[file_sync]]\nguest = \"~/x\"\n", "file_sync entry 2: missing 'host'"},
      {"[[file_sync]]\nhost = \"~/x\"\n", "file_sync entry 2: missing 'guest'"},
      {"[[file_sync]]\nhost = \"~/x\"\nguest = \"~/x\"\nowner = \"me\"\n",
       "file_sync entry 2, key 'owner': unknown key"},
      {"file_sync = \"~/x\"", "file_sync: must be an array of tables"},
  };
  for (const auto& c : cases) {
    const std::string text = c.text.rfind("file_sync =", 0) == 0 ? c.text : good + c.text;
    EXPECT_NE(errorOf(text).find(c.expected), std::string::npos)
        << "for:\n"
        << text << "\nexpected: " << c.expected << "\ngot: " << errorOf(text);
  }
}

TEST(Config, ModeAcceptsOctalStringsAndIntegers) {
  EXPECT_EQ(parseConfig(fileSync("~/x", "/root/x", "\"600\""), "c", kHome).fileSync[0].mode, 0600U);
  EXPECT_EQ(parseConfig(fileSync("~/x", "/root/x", "0o755"), "c", kHome).fileSync[0].mode, 0755U);
}

TEST(Config, MissingFileIsEmptyConfig) {
  const Config c = loadConfig("/nonexistent/banger/config.toml", kHome);
  EXPECT_FALSE(c.defaultImage);
}

TEST(Config, ImageKeys) {
  const Config c = parseConfig(
      "image_max_bytes = \"2G\"\nimage_max_entries = 5000\n"
      "insecure_registries = [\"registry.lan:5000\", \"10.0.0.1\"]\n",
      "config.toml", kHome);
  EXPECT_EQ(c.imageMaxBytes, 2ull << 30);
  EXPECT_EQ(c.imageMaxEntries, 5000u);
  EXPECT_EQ(c.insecureRegistries, (std::vector<std::string>{"registry.lan:5000", "10.0.0.1"}));
  EXPECT_NE(errorOf("image_max_bytes = \"1M\"\n").find("image_max_bytes"), std::string::npos);
  EXPECT_NE(errorOf("image_max_entries = 5\n").find("image_max_entries"), std::string::npos);
  EXPECT_NE(errorOf("insecure_registries = \"x\"\n").find("insecure_registries"),
            std::string::npos);
  EXPECT_NE(errorOf("insecure_registries = [\"http://x/\"]\n").find("entry 1"), std::string::npos);
}

TEST(Config, WhereImagesAndKernelsComeFrom) {
  const Config c = parseConfig(
      "debian_mirror = \"http://mirror.lan/debian/\"\n"
      "debian_security_mirror = \"https://mirror.lan/debian-security\"\n"
      "[[catalog]]\nname = \"fc-6.1\"\nurl = \"https://example.org/k.tar.zst\"\n"
      "sha256 = \"" +
          std::string(64, 'a') + "\"\ndescription = \"CI kernel\"\n",
      "config.toml", kHome);
  EXPECT_EQ(c.debianMirror, "http://mirror.lan/debian");  // the trailing '/' goes
  EXPECT_EQ(c.debianSecurityMirror, "https://mirror.lan/debian-security");
  ASSERT_EQ(c.catalog.size(), 1u);
  EXPECT_EQ(c.catalog[0].name, "fc-6.1");
  EXPECT_EQ(c.catalog[0].kind, "kernel");
  EXPECT_EQ(c.catalog[0].description, "CI kernel");
  const std::string entry = "[[catalog]]\nname = \"k\"\nurl = \"https://e.org/k\"\n";
  EXPECT_NE(errorOf("debian_mirror = \"ftp://x/debian\"\n")
                .find("debian_mirror: 'ftp://x/debian' is not an http"),
            std::string::npos);
  EXPECT_NE(errorOf(entry).find("catalog entry 1: missing 'sha256'"), std::string::npos);
  EXPECT_NE(errorOf(entry + "sha256 = \"ABC\"\n").find("64 lower-case hex"), std::string::npos);
  EXPECT_NE(errorOf(entry + "sha256 = \"" + std::string(64, 'a') + "\"\nkind = \"image\"\n")
                .find("must be \"kernel\""),
            std::string::npos);
  EXPECT_NE(errorOf(entry + "sha256 = \"" + std::string(64, 'a') + "\"\ncolour = 1\n")
                .find("catalog entry 1, key 'colour': unknown key"),
            std::string::npos);
  const std::string twice = entry + "sha256 = \"" + std::string(64, 'a') + "\"\n";
  EXPECT_NE(errorOf(twice + twice).find("catalog entry 2: the name 'k' is given twice"),
            std::string::npos);
  EXPECT_NE(errorOf("[[catalog]]\nname = \"Bad Name\"\n").find("is not a name"), std::string::npos);
}
