// The pieces a kernel is made of, without the network: a bzImage unpacked to its ELF for
// each compression the kernel build uses (made by the real gzip, xz, zstd, lz4, bzip2 and
// lzma tools), the vmlinux checks, the initrd's exact and reproducible contents, a modules
// directory's closure, a Debian package read in one pass (or two), and hostile bundles.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/sysmacros.h>

#include <cstring>
#include <map>

#include "banger/errors.h"
#include "banger/process.h"
#include "fake_module.h"
#include "harness.h"
#include "kernel/bundle.h"
#include "kernel/initrd.h"
#include "kernel/kernel_parts.h"
#include "kernel/vmlinux.h"

namespace banger::image {
namespace {

namespace fs = std::filesystem;
using test::fakeModule;
using test::fakeVmlinux;

std::string compressWith(const std::string& tool, const std::string& bytes) {
  test::TempDir dir;
  test::writeFile(dir.path() / "in", bytes);
  const ProcessResult result = SystemProcessRunner().run(
      Command({"sh", "-c", tool + " < '" + (dir.path() / "in").string() + "'"}));
  EXPECT_EQ(result.exitCode, 0) << tool << ": " << result.err;
  return result.out;
}

// A bzImage as the kernel's build lays one out: the boot sector and setup with the HdrS
// header, then the compressed payload (and, for all but gzip, its inflated size).
std::string fakeBzImage(const std::string& payload, std::uint16_t protocol = 0x020f) {
  std::string image(2 * 512, '\0');  // setup_sects = 1
  image[0x1f1] = 1;
  std::memcpy(&image[0x202], "HdrS", 4);
  std::memcpy(&image[0x206], &protocol, 2);
  const std::uint32_t offset = 0x100, length = static_cast<std::uint32_t>(payload.size());
  std::memcpy(&image[0x248], &offset, 4);
  std::memcpy(&image[0x24c], &length, 4);
  image += std::string(offset, '\xcc') + payload + std::string(512, '\0');
  return image;
}

std::string withSize(std::string payload, std::size_t size) {
  const auto value = static_cast<std::uint32_t>(size);
  payload.append(reinterpret_cast<const char*>(&value), 4);
  return payload;
}

std::string refusal(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& error) {
    return error.what();
  }
  return "(accepted)";
}

TEST(Vmlinux, EveryCompressionTheKernelUsesUnpacksToTheSameElf) {
  const std::string elf = fakeVmlinux(true);
  const std::pair<const char*, const char*> tools[] = {
      {"gzip", "gzip -9 -n"},  {"xz", "xz --check=crc32 -9"}, {"zstd", "zstd -19 -q"},
      {"lz4", "lz4 -l -9 -q"}, {"bzip2", "bzip2 -9"},         {"lzma", "xz --format=lzma -9"}};
  for (const auto& [format, tool] : tools) {
    std::string payload = compressWith(tool, elf);
    if (std::string(format) != "gzip") payload = withSize(payload, elf.size());
    std::string compression;
    EXPECT_EQ(vmlinuxFromBzImage(fakeBzImage(payload), compression), elf) << format;
    EXPECT_EQ(compression, format);
  }
}

TEST(Vmlinux, ABadBzImageIsRefusedSayingWhy) {
  const std::string elf = fakeVmlinux(true);
  const std::string payload = withSize(compressWith("xz --check=crc32", elf), elf.size());
  std::string compression;
  const auto unpack = [&](const std::string& image) {
    return refusal([&] { vmlinuxFromBzImage(image, compression); });
  };
  EXPECT_NE(unpack(elf).find("no HdrS boot header"), std::string::npos);
  EXPECT_NE(unpack(fakeBzImage(payload, 0x0206)).find("older than 2.08"), std::string::npos);
  std::string outside = fakeBzImage(payload);
  const std::uint32_t huge = 1u << 30;
  std::memcpy(&outside[0x24c], &huge, 4);
  EXPECT_NE(unpack(outside).find("outside the file"), std::string::npos);
  EXPECT_NE(unpack(fakeBzImage(std::string(64, 'x'))).find("compression"), std::string::npos);
  EXPECT_NE(unpack(fakeBzImage(withSize(compressWith("xz", elf), elf.size() + 1)))
                .find("not the " + std::to_string(elf.size() + 1)),
            std::string::npos);
  EXPECT_NE(
      unpack(fakeBzImage(withSize(compressWith("xz", elf), 16))).find("past its recorded size"),
      std::string::npos);
  std::string corrupt = compressWith("xz", elf);
  corrupt[corrupt.size() / 2] ^= 0x55;
  EXPECT_NE(unpack(fakeBzImage(withSize(corrupt, elf.size()))).find("xz payload"),
            std::string::npos);
}

TEST(Vmlinux, InspectionReadsTheVersionAndThePvhNote) {
  const VmlinuxFacts facts = inspectVmlinux(fakeVmlinux(true));
  EXPECT_EQ(facts.version, "9.9.9-test");
  EXPECT_TRUE(facts.pvhEntry);
  EXPECT_FALSE(inspectVmlinux(fakeVmlinux(false)).pvhEntry);
  const auto inspect = [](const std::string& elf) { return refusal([&] { inspectVmlinux(elf); }); };
  EXPECT_NE(inspect(fakeVmlinux(true, EM_AARCH64)).find("not x86-64"), std::string::npos);
  EXPECT_NE(inspect(fakeVmlinux(true, EM_X86_64, ELFCLASS32)).find("not a 64-bit ELF"),
            std::string::npos);
  EXPECT_NE(inspect(fakeBzImage(compressWith("gzip", fakeVmlinux(true)))).find("a bzImage"),
            std::string::npos);
  EXPECT_NE(inspect("#!/bin/sh\n").find("not an ELF file"), std::string::npos);
  std::string noBanner = fakeVmlinux(true);
  noBanner.replace(noBanner.find("Linux version"), 13, "Linux Version");
  EXPECT_NE(inspect(noBanner).find("not a Linux kernel"), std::string::npos);
  const std::string whole = fakeVmlinux(true);
  EXPECT_NE(inspect(whole.substr(0, 100)).find("ends inside"), std::string::npos);
}

// libarchive reads the cpio back: names, types, owners, times, the console's device.
std::vector<std::string> listCpio(const std::string& bytes) {
  archive* reader = archive_read_new();
  archive_read_support_format_cpio(reader);
  EXPECT_EQ(archive_read_open_memory(reader, bytes.data(), bytes.size()), ARCHIVE_OK);
  std::vector<std::string> entries;
  archive_entry* entry = nullptr;
  while (archive_read_next_header(reader, &entry) == ARCHIVE_OK) {
    std::string line = archive_entry_pathname(entry);
    line += " " + std::to_string(archive_entry_mode(entry) & 07777);
    line += " " + std::to_string(archive_entry_uid(entry)) + ":" +
            std::to_string(archive_entry_gid(entry));
    line += " t" + std::to_string(archive_entry_mtime(entry));
    if (archive_entry_filetype(entry) == AE_IFCHR)
      line += " c" + std::to_string(major(archive_entry_rdev(entry))) + "," +
              std::to_string(minor(archive_entry_rdev(entry)));
    if (archive_entry_filetype(entry) == AE_IFREG)
      line += " " + std::to_string(archive_entry_size(entry));
    entries.push_back(line);
  }
  archive_read_free(reader);
  return entries;
}

TEST(Initrd, HoldsInitTheConsoleAndTheModulesAndIsReproducible) {
  const std::vector<KernelModule> modules = {{"virtio", std::string(100, 'v')},
                                             {"overlay", std::string(7, 'o')}};
  const std::string initrd = buildInitrd("INIT", modules, 315532800);
  EXPECT_EQ(listCpio(initrd),
            (std::vector<std::string>{
                "dev 493 0:0 t315532800", "dev/console 384 0:0 t315532800 c5,1",
                "init 493 0:0 t315532800 4", "lib 493 0:0 t315532800",
                "lib/modules 493 0:0 t315532800", "lib/modules/overlay.ko 420 0:0 t315532800 7",
                "lib/modules/virtio.ko 420 0:0 t315532800 100"}));
  EXPECT_EQ(buildInitrd("INIT", modules, 315532800), initrd);
  EXPECT_NE(buildInitrd("INIT2", modules, 315532800), initrd);
}

// A tree of fake .ko files: virtio_net needs virtio and net_failover, which needs
// failover; everything else the guest needs is built in (modules.builtin says so).
void writeModules(const fs::path& dir, bool builtinList) {
  fs::create_directories(dir / "kernel/drivers/net");
  fs::create_directories(dir / "kernel/drivers/virtio");
  test::writeFile(dir / "kernel/drivers/net/virtio_net.ko",
                  fakeModule({"depends=virtio,net_failover", "name=virtio_net"}));
  test::writeFile(dir / "kernel/drivers/net/net_failover.ko",
                  fakeModule({"depends=failover", "name=net_failover"}));
  test::writeFile(dir / "kernel/drivers/net/failover.ko",
                  fakeModule({"depends=", "name=failover"}));
  test::writeFile(dir / "kernel/drivers/virtio/virtio.ko", fakeModule({"depends=", "name=virtio"}));
  test::writeFile(dir / "kernel/drivers/virtio/unrelated.ko",
                  fakeModule({"depends=", "name=unrelated"}));
  if (builtinList)
    test::writeFile(
        dir / "modules.builtin",
        "kernel/drivers/virtio/virtio_mmio.ko\nkernel/drivers/block/virtio_blk.ko\n"
        "kernel/net/vmw_vsock/vmw_vsock_virtio_transport.ko\nkernel/fs/overlayfs/overlay.ko\n");
}

TEST(KernelModules, ADirectoryGivesTheGuestModulesClosureInLoadOrder) {
  test::TempDir dir;
  writeModules(dir.path(), true);
  std::vector<std::string> names;
  for (const KernelModule& module : modulesFromDirectory(dir.path())) names.push_back(module.name);
  EXPECT_EQ(names, (std::vector<std::string>{"virtio", "failover", "net_failover", "virtio_net"}));
}

TEST(KernelModules, AMissingGuestModuleNotBuiltInIsNamed) {
  test::TempDir dir;
  writeModules(dir.path(), false);
  const std::string why = refusal([&] { modulesFromDirectory(dir.path()); });
  EXPECT_NE(why.find("lacks virtio_mmio, virtio_blk, vmw_vsock_virtio_transport, overlay"),
            std::string::npos)
      << why;
  test::writeFile(dir.path() / "modules.builtin", "");
  test::writeFile(dir.path() / "kernel/drivers/virtio/broken.ko", "not an elf");
  const std::string broken = refusal([&] { modulesFromDirectory(dir.path()); });
  EXPECT_NE(broken.find("broken.ko: not an ELF file"), std::string::npos) << broken;
}

// A .deb made by dpkg-deb (data.tar as xz, which banger inflates on every core, and as
// zstd and gzip, which libarchive does), holding a bzImage and the guest's modules;
// virtio_ring comes first in the archive, before any module that names it, so it comes
// back from the scratch file, which is gone afterwards.
TEST(DebianKernelPackage, ReadsTheKernelAndTheModulesClosure) {
  test::TempDir dir;
  const fs::path root = dir.path() / "pkg";
  const fs::path mods = root / "lib/modules/9.9.9-test/kernel";
  fs::create_directories(root / "DEBIAN");
  fs::create_directories(root / "boot");
  test::writeFile(root / "DEBIAN/control",
                  "Package: linux-image-9.9.9-test\nVersion: 1\nArchitecture: amd64\n"
                  "Maintainer: t <t@example>\nDescription: test\n");
  const std::string elf = fakeVmlinux(true);
  test::writeFile(root / "boot/vmlinuz-9.9.9-test",
                  fakeBzImage(withSize(compressWith("lz4 -l -q", elf), elf.size())));
  const std::pair<const char*, const char*> modules[] = {
      {"a/virtio_ring.ko", "depends="},
      {"b/virtio.ko", "depends=virtio_ring"},
      {"c/virtio_mmio.ko", "depends=virtio"},
      {"c/virtio_blk.ko", "depends=virtio"},
      {"d/virtio_net.ko", "depends=virtio"},
      {"e/vsock.ko", "depends="},
      {"e/vmw_vsock_virtio_transport.ko", "depends=vsock"},
      {"f/overlay.ko", "depends="},
      {"g/unrelated.ko", "depends="}};
  std::map<std::string, fs::path> written;
  for (const auto& [path, depends] : modules) {
    fs::create_directories((mods / path).parent_path());
    test::writeFile(mods / path, fakeModule({depends}));
    written[fs::path(path).stem().string()] = mods / path;
  }
  for (const char* compression : {"xz", "zstd", "gzip"}) {
    SCOPED_TRACE(compression);
    const fs::path deb = dir.path() / (std::string("k-") + compression + ".deb");
    const fs::path scratch = dir.path() / (std::string("scratch-") + compression);
    fs::create_directories(scratch);
    const ProcessResult built = SystemProcessRunner().run(
        Command({"dpkg-deb", "--root-owner-group", std::string("-Z") + compression, "--build",
                 root.string(), deb.string()}));
    ASSERT_EQ(built.exitCode, 0) << built.err;
    const KernelParts parts = kernelFromDebianPackage(deb.string(), scratch, nullptr);
    EXPECT_EQ(parts.vmlinux, elf);
    EXPECT_EQ(parts.facts.version, "9.9.9-test");
    EXPECT_EQ(parts.facts.compression, "lz4");
    std::vector<std::string> names;
    for (const KernelModule& module : parts.modules) {
      names.push_back(module.name);
      EXPECT_EQ(module.bytes, test::readFile(written.at(module.name))) << module.name;
    }
    EXPECT_EQ(names, (std::vector<std::string>{"virtio_ring", "virtio", "virtio_mmio", "virtio_blk",
                                               "virtio_net", "vsock", "vmw_vsock_virtio_transport",
                                               "overlay"}));
    EXPECT_TRUE(fs::is_empty(scratch));
  }
  const std::string notDeb = refusal(
      [&] { kernelFromDebianPackage((root / "DEBIAN/control").string(), dir.path(), nullptr); });
  EXPECT_NE(notDeb.find("not a Debian package"), std::string::npos) << notDeb;
}

std::string tarOf(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string out;
  archive* writer = archive_write_new();
  archive_write_set_format_pax_restricted(writer);
  archive_write_add_filter_zstd(writer);
  archive_write_set_bytes_in_last_block(writer, 1);  // no zeros after the zstd frame
  archive_write_open(
      writer, &out, nullptr,
      [](archive*, void* context, const void* buffer, std::size_t size) -> la_ssize_t {
        static_cast<std::string*>(context)->append(static_cast<const char*>(buffer), size);
        return static_cast<la_ssize_t>(size);
      },
      nullptr);
  for (const auto& [name, data] : files) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, name.c_str());
    archive_entry_set_filetype(entry, AE_IFREG);
    archive_entry_set_perm(entry, 0644);
    archive_entry_set_size(entry, static_cast<la_int64_t>(data.size()));
    archive_write_header(writer, entry);
    archive_write_data(writer, data.data(), data.size());
    archive_entry_free(entry);
  }
  archive_write_close(writer);
  archive_write_free(writer);
  return out;
}

TEST(KernelBundle, UnpacksItsMembersAndRefusesEscapes) {
  test::TempDir dir;
  test::writeFile(dir.path() / "good.tar.zst",
                  tarOf({{"./vmlinux", "ELF"}, {"modules/kernel/x.ko", "KO"}, {"README", "hi"}}));
  const BundleFiles files =
      unpackBundle((dir.path() / "good.tar.zst").string(), dir.path() / "out", "b");
  EXPECT_EQ(test::readFile(files.vmlinux), "ELF");
  EXPECT_EQ(test::readFile(fs::path(files.modules) / "kernel/x.ko"), "KO");
  EXPECT_EQ(files.initrd, "");
  EXPECT_FALSE(fs::exists(dir.path() / "out/README"));

  test::writeFile(dir.path() / "escape.tar.zst",
                  tarOf({{"vmlinux", "ELF"}, {"modules/../../escaped", "x"}}));
  EXPECT_NE(refusal([&] {
              unpackBundle((dir.path() / "escape.tar.zst").string(), dir.path() / "e", "b");
            }).find("leaves the bundle"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path() / "escaped"));
  test::writeFile(dir.path() / "empty.tar.zst", tarOf({{"initrd.img", "I"}}));
  EXPECT_NE(refusal([&] {
              unpackBundle((dir.path() / "empty.tar.zst").string(), dir.path() / "n", "b");
            }).find("has no vmlinux"),
            std::string::npos);
  test::writeFile(dir.path() / "junk.tar.zst", "junk");
  EXPECT_NE(refusal([&] {
              unpackBundle((dir.path() / "junk.tar.zst").string(), dir.path() / "j", "b");
            }).find("b: "),
            std::string::npos);
}

}  // namespace
}  // namespace banger::image
