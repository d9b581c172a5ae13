#include "boot_params.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace banger::guest {

namespace {

constexpr std::string_view kPrefix = "banger.";

[[noreturn]] void refuse(const std::string& key, const std::string& value, const std::string& why) {
  throw BootParamError("banger." + key + "=" + value + ": " + why);
}

std::optional<unsigned> number(std::string_view text) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A path the command line can carry as one word: printable ASCII, no space or quote.
bool plainPath(std::string_view path) {
  for (const char c : path)
    if (c <= ' ' || c == '"' || c >= 0x7f) return false;
  return true;
}

std::string device(const std::map<std::string, std::string>& words, const std::string& key) {
  const auto found = words.find(key);
  if (found == words.end()) throw BootParamError("banger." + key + "= is missing: no disk for it");
  const std::string& path = found->second;
  if (path.rfind("/dev/", 0) != 0 || path.size() == 5 || path.find("/..") != std::string::npos ||
      !plainPath(path))
    refuse(key, path, "not a device path under /dev/");
  return path;
}

// `text`, a part of `value`, as an address; the message quotes the whole word.
Ipv4 address(const std::string& key, const std::string& text, const std::string& value) {
  const std::optional<Ipv4> parsed = Ipv4::parse(text);
  if (!parsed) refuse(key, value, text + " is not an IPv4 address");
  return *parsed;
}

// RFC 1123 labels joined by dots, at most 64 characters (the kernel's limit).
bool validHostname(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  std::size_t labelStart = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      const std::size_t length = i - labelStart;
      if (length == 0 || length > 63 || name[labelStart] == '-' || name[i - 1] == '-') return false;
      labelStart = i + 1;
      continue;
    }
    const char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
      return false;
  }
  return true;
}

GuestNetwork network(const std::map<std::string, std::string>& words) {
  GuestNetwork out;
  const std::string& ip = words.at("ip");
  const std::size_t slash = ip.find('/');
  if (slash == std::string::npos) refuse("ip", ip, "expected ADDRESS/PREFIX");
  out.address = address("ip", ip.substr(0, slash), ip);
  const std::optional<unsigned> prefix = number(std::string_view(ip).substr(slash + 1));
  if (!prefix || *prefix < 1 || *prefix > 32) refuse("ip", ip, "the prefix must be 1 to 32");
  out.prefix = *prefix;
  if (const auto gw = words.find("gw"); gw != words.end()) {
    out.gateway = address("gw", gw->second, gw->second);
    const uint32_t mask = out.prefix == 32 ? ~0u : ~(~0u >> out.prefix);
    if ((out.gateway->value & mask) != (out.address.value & mask) ||
        out.gateway->value == out.address.value)
      refuse("gw", gw->second, "not another address in " + ip);
  }
  if (const auto mtu = words.find("mtu"); mtu != words.end()) {
    const std::optional<unsigned> value = number(mtu->second);
    if (!value || *value < 68 || *value > 65535)
      refuse("mtu", mtu->second, "the MTU must be 68 to 65535");
    out.mtu = *value;
  }
  if (const auto dns = words.find("dns"); dns != words.end()) {
    std::string_view rest = dns->second;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      out.nameservers.push_back(address("dns", std::string(rest.substr(0, comma)), dns->second));
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
      if (comma != std::string_view::npos && rest.empty())
        refuse("dns", dns->second, "a trailing comma");
    }
    if (out.nameservers.empty()) refuse("dns", dns->second, "no nameserver");
    if (out.nameservers.size() > 3) refuse("dns", dns->second, "at most 3 nameservers");
  }
  return out;
}

}  // namespace

std::vector<std::string> splitCommandLine(std::string_view commandLine) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false, inWord = false;
  for (const char c : commandLine) {
    if (c == '"') {
      quoted = !quoted;
      inWord = true;
    } else if (!quoted && (c == ' ' || c == '\t' || c == '\n')) {
      if (inWord) words.push_back(std::move(word));
      word.clear();
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push_back(std::move(word));
  return words;
}

BootParams parseBootParams(std::string_view commandLine) {
  static const char* const kKeys[] = {"base", "overlay", "work", "fstype",   "ip",
                                      "gw",   "mtu",     "dns",  "hostname", "init"};
  std::map<std::string, std::string> words;
  for (const std::string& word : splitCommandLine(commandLine)) {
    if (word.rfind(kPrefix, 0) != 0) continue;
    const std::size_t equals = word.find('=');
    const std::string key = word.substr(kPrefix.size(), equals - kPrefix.size());
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys))
      throw BootParamError(word + ": unknown parameter (docs/guest.md lists them)");
    if (equals == std::string::npos) throw BootParamError(word + ": expected banger." + key + "=");
    if (!words.emplace(key, word.substr(equals + 1)).second)
      throw BootParamError("banger." + key + "= is given twice");
  }
  BootParams params;
  params.baseDevice = device(words, "base");
  params.overlayDevice = device(words, "overlay");
  params.workDevice = device(words, "work");
  if (params.baseDevice == params.overlayDevice || params.baseDevice == params.workDevice ||
      params.overlayDevice == params.workDevice)
    throw BootParamError("banger.base=, banger.overlay= and banger.work= must be three disks");
  if (const auto fsType = words.find("fstype"); fsType != words.end()) {
    if (fsType->second != "ext4" && fsType->second != "ext2" && fsType->second != "ext3")
      refuse("fstype", fsType->second, "banger-init mounts ext2, ext3 or ext4");
    params.fsType = fsType->second;
  }
  if (words.count("ip")) {
    params.network = network(words);
  } else {
    for (const char* key : {"gw", "mtu", "dns"})
      if (words.count(key)) refuse(key, words.at(key), "needs banger.ip=");
  }
  if (const auto hostname = words.find("hostname"); hostname != words.end()) {
    if (!validHostname(hostname->second))
      refuse("hostname", hostname->second, "not a host name (letters, digits, '-', '.')");
    params.hostname = hostname->second;
  }
  if (const auto init = words.find("init"); init != words.end()) {
    if (init->second.size() < 2 || init->second[0] != '/' || !plainPath(init->second))
      refuse("init", init->second, "not an absolute path of printable characters");
    params.init = init->second;
  }
  return params;
}

std::string renderBootParams(const BootParams& params) {
  std::string out = "banger.base=" + params.baseDevice + " banger.overlay=" + params.overlayDevice +
                    " banger.work=" + params.workDevice;
  if (params.fsType != "ext4") out += " banger.fstype=" + params.fsType;
  if (params.network) {
    const GuestNetwork& net = *params.network;
    out += " banger.ip=" + net.address.str() + "/" + std::to_string(net.prefix);
    if (net.gateway) out += " banger.gw=" + net.gateway->str();
    if (net.mtu != 1500) out += " banger.mtu=" + std::to_string(net.mtu);
    for (std::size_t i = 0; i < net.nameservers.size(); ++i)
      out += (i == 0 ? " banger.dns=" : ",") + net.nameservers[i].str();
  }
  if (!params.hostname.empty()) out += " banger.hostname=" + params.hostname;
  if (params.init != "/sbin/init") out += " banger.init=" + params.init;
  return out;
}

}  // namespace banger::guest
