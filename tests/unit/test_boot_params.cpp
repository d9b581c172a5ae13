// banger-init's reading of the kernel command line: what the Vm service writes comes
// back whole, the kernel's and the image's words are left alone, and each unusable
// banger.* word is refused with a message that names it.
#include <gtest/gtest.h>

#include "boot_params.h"

namespace banger::guest {
namespace {

const std::string kDisks = "banger.base=/dev/vda banger.overlay=/dev/vdb banger.work=/dev/vdc";

std::string refusal(const std::string& commandLine) {
  try {
    parseBootParams(commandLine);
  } catch (const BootParamError& error) {
    return error.what();
  }
  return "(accepted)";
}

TEST(BootParams, AFullCommandLineAsFirecrackerPassesIt) {
  const BootParams params =
      parseBootParams("console=ttyS0 reboot=k panic=1 " + kDisks +
                      " banger.ip=172.16.0.5/24 banger.gw=172.16.0.1 banger.mtu=1400 "
                      "banger.dns=172.16.0.1,9.9.9.9 banger.hostname=quiet-otter "
                      "banger.init=/lib/systemd/systemd pci=off root=/dev/vda ro");
  EXPECT_EQ(params.baseDevice, "/dev/vda");
  EXPECT_EQ(params.overlayDevice, "/dev/vdb");
  EXPECT_EQ(params.workDevice, "/dev/vdc");
  EXPECT_EQ(params.fsType, "ext4");
  ASSERT_TRUE(params.network);
  EXPECT_EQ(params.network->address.str(), "172.16.0.5");
  EXPECT_EQ(params.network->prefix, 24u);
  ASSERT_TRUE(params.network->gateway);
  EXPECT_EQ(params.network->gateway->str(), "172.16.0.1");
  EXPECT_EQ(params.network->mtu, 1400u);
  ASSERT_EQ(params.network->nameservers.size(), 2u);
  EXPECT_EQ(params.network->nameservers[1].str(), "9.9.9.9");
  EXPECT_EQ(params.hostname, "quiet-otter");
  EXPECT_EQ(params.init, "/lib/systemd/systemd");
}

TEST(BootParams, DefaultsWhereTheCommandLineIsSilent) {
  const BootParams params = parseBootParams(kDisks);
  EXPECT_FALSE(params.network);
  EXPECT_EQ(params.hostname, "");
  EXPECT_EQ(params.init, "/sbin/init");
  EXPECT_EQ(parseBootParams(kDisks + " banger.ip=10.0.0.2/8").network->mtu, 1500u);
}

TEST(BootParams, RenderedParametersParseBackToTheSame) {
  BootParams params;
  params.baseDevice = "/dev/vda";
  params.overlayDevice = "/dev/vdb";
  params.workDevice = "/dev/vdc";
  params.network = GuestNetwork{
      *Ipv4::parse("10.1.2.3"), 16, Ipv4::parse("10.1.0.1"), 9000, {*Ipv4::parse("10.1.0.1")}};
  params.hostname = "box.vm";
  params.init = "/init2";
  const std::string rendered = renderBootParams(params);
  EXPECT_EQ(rendered,
            kDisks +
                " banger.ip=10.1.2.3/16 banger.gw=10.1.0.1 banger.mtu=9000 banger.dns=10.1.0.1 "
                "banger.hostname=box.vm banger.init=/init2");
  const BootParams back = parseBootParams("console=ttyS0 " + rendered);
  EXPECT_EQ(renderBootParams(back), rendered);
}

TEST(BootParams, QuotesGroupWordsAsTheKernelDoes) {
  EXPECT_EQ(splitCommandLine("a  \"b c\" d=\"e f\"\tg"),
            (std::vector<std::string>{"a", "b c", "d=e f", "g"}));
  EXPECT_EQ(splitCommandLine("  "), std::vector<std::string>{});
  EXPECT_EQ(parseBootParams("\"" + kDisks.substr(0, 19) + "\"" + kDisks.substr(19)).baseDevice,
            "/dev/vda");
}

TEST(BootParams, EachUnusableWordIsNamed) {
  const std::pair<std::string, std::string> cases[] = {
      {"banger.overlay=/dev/vdb banger.work=/dev/vdc", "banger.base= is missing: no disk for it"},
      {"banger.base=vda banger.overlay=/dev/vdb banger.work=/dev/vdc",
       "banger.base=vda: not a device path under /dev/"},
      {"banger.base=/dev/../etc/passwd banger.overlay=/dev/vdb banger.work=/dev/vdc",
       "banger.base=/dev/../etc/passwd: not a device path under /dev/"},
      {"banger.base=/dev/vda banger.overlay=/dev/vda banger.work=/dev/vdc",
       "banger.base=, banger.overlay= and banger.work= must be three disks"},
      {kDisks + " banger.ip=10.0.0.300/24",
       "banger.ip=10.0.0.300/24: 10.0.0.300 is not an IPv4 address"},
      {kDisks + " banger.ip=10.0.0.2", "banger.ip=10.0.0.2: expected ADDRESS/PREFIX"},
      {kDisks + " banger.ip=10.0.0.2/33", "banger.ip=10.0.0.2/33: the prefix must be 1 to 32"},
      {kDisks + " banger.ip=10.0.0.2/24 banger.gw=10.0.1.1",
       "banger.gw=10.0.1.1: not another address in 10.0.0.2/24"},
      {kDisks + " banger.ip=10.0.0.2/24 banger.mtu=60",
       "banger.mtu=60: the MTU must be 68 to 65535"},
      {kDisks + " banger.ip=10.0.0.2/24 banger.dns=1.1.1.1,",
       "banger.dns=1.1.1.1,: a trailing comma"},
      {kDisks + " banger.ip=10.0.0.2/24 banger.dns=1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4",
       "banger.dns=1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4: at most 3 nameservers"},
      {kDisks + " banger.gw=10.0.0.1", "banger.gw=10.0.0.1: needs banger.ip="},
      {kDisks + " banger.hostname=-bad",
       "banger.hostname=-bad: not a host name (letters, digits, "
       "'-', '.')"},
      {kDisks + " banger.hostname=a..b",
       "banger.hostname=a..b: not a host name (letters, digits, "
       "'-', '.')"},
      {kDisks + " banger.init=sbin/init",
       "banger.init=sbin/init: not an absolute path of printable characters"},
      {kDisks + " \"banger.init=/sbin/my init\"",
       "banger.init=/sbin/my init: not an absolute path of printable characters"},
      {"banger.base=\"/dev/v da\" banger.overlay=/dev/vdb banger.work=/dev/vdc",
       "banger.base=/dev/v da: not a device path under /dev/"},
      {kDisks + " banger.fstype=xfs", "banger.fstype=xfs: banger-init mounts ext2, ext3 or ext4"},
      {kDisks + " banger.iP=10.0.0.2/24",
       "banger.iP=10.0.0.2/24: unknown parameter (docs/guest.md "
       "lists them)"},
      {kDisks + " banger.hostname", "banger.hostname: expected banger.hostname="},
      {kDisks + " banger.work=/dev/vdd", "banger.work= is given twice"},
  };
  for (const auto& [commandLine, message] : cases)
    EXPECT_EQ(refusal(commandLine), message) << commandLine;
}

TEST(BootParams, OtherWordsAreNotBangers) {
  // The kernel's, systemd's and the image's own words pass untouched, even look-alikes.
  EXPECT_EQ(refusal(kDisks + " bangerx=1 systemd.unit=rescue.target ip=dhcp"), "(accepted)");
}

}  // namespace
}  // namespace banger::guest
