#include "proc_sockets.h"
#include "whole_file.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <system_error>
#include <tuple>
#include <utility>

namespace banger::guest {

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kTcpListen = "0A";
constexpr std::string_view kUdpUnconnected = "07";  // TCP_CLOSE: bound, no peer

bool hexWord(std::string_view text, std::uint32_t& out) {
  if (text.size() != 8) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + 8, out, 16);
  return error == std::errc() && end == text.data() + 8;
}

// "0100007F:0016": the address as the kernel's 32-bit words print in host order.
bool endpoint(std::string_view text, bool ipv6, std::string& address, std::uint16_t& port) {
  const std::size_t colon = text.find(':');
  const std::size_t words = ipv6 ? 4 : 1;
  if (colon != words * 8 || text.size() != colon + 5) return false;
  std::uint32_t raw[4] = {};
  for (std::size_t i = 0; i < words; ++i)
    if (!hexWord(text.substr(i * 8, 8), raw[i])) return false;  // already network order in memory
  unsigned portValue = 0;
  const auto [end, error] =
      std::from_chars(text.data() + colon + 1, text.data() + text.size(), portValue, 16);
  if (error != std::errc() || end != text.data() + text.size()) return false;
  char buffer[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(ipv6 ? AF_INET6 : AF_INET, raw, buffer, sizeof buffer)) return false;
  address = buffer;
  port = static_cast<std::uint16_t>(portValue);
  return true;
}

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    const std::size_t start = line.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const std::size_t end = line.find(' ');
    out.push_back(line.substr(0, end));
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  }
  return out;
}

// inode → (lowest pid, comm) over every /proc/<pid>/fd that can be read.
std::map<std::uint64_t, std::pair<int, std::string>> socketHolders(const fs::path& procRoot) {
  std::map<std::uint64_t, std::pair<int, std::string>> holders;
  std::error_code ec;
  for (fs::directory_iterator it(procRoot, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    int pid = 0;
    const auto [p, error] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (error != std::errc() || p != name.data() + name.size() || pid <= 0) continue;
    std::error_code fdError;
    for (fs::directory_iterator fd(it->path() / "fd", fdError), fdEnd; !fdError && fd != fdEnd;
         fd.increment(fdError)) {
      std::error_code linkError;
      const std::string target = fs::read_symlink(fd->path(), linkError).string();
      if (linkError || !target.starts_with("socket:[") || !target.ends_with("]")) continue;
      std::uint64_t inode = 0;
      const auto [q, inodeError] =
          std::from_chars(target.data() + 8, target.data() + target.size() - 1, inode);
      if (inodeError != std::errc() || q != target.data() + target.size() - 1) continue;
      auto& holder = holders[inode];
      if (holder.first != 0 && holder.first <= pid) continue;
      std::string comm = readWholeFile(it->path() / "comm");
      if (!comm.empty() && comm.back() == '\n') comm.pop_back();
      holder = {pid, comm};
    }
  }
  return holders;
}

}  // namespace

std::vector<ProcNetEntry> parseProcNet(std::string_view table, bool tcp, bool ipv6) {
  std::vector<ProcNetEntry> out;
  bool header = true;
  while (!table.empty()) {
    const std::size_t newline = table.find('\n');
    const std::string_view line = table.substr(0, newline);
    table.remove_prefix(newline == std::string_view::npos ? table.size() : newline + 1);
    if (std::exchange(header, false)) continue;
    const auto columns = fields(line);
    // sl local rem st queues timer retrnsmt uid timeout inode …
    if (columns.size() < 10) continue;
    if (columns[3] != (tcp ? kTcpListen : kUdpUnconnected)) continue;
    ProcNetEntry entry;
    std::string remote;
    std::uint16_t remotePort = 0;
    if (!endpoint(columns[1], ipv6, entry.address, entry.port)) continue;
    if (!endpoint(columns[2], ipv6, remote, remotePort)) continue;
    if (!tcp && remotePort != 0) continue;
    const auto [end, error] =
        std::from_chars(columns[9].data(), columns[9].data() + columns[9].size(), entry.inode);
    if (error != std::errc() || end != columns[9].data() + columns[9].size()) continue;
    out.push_back(entry);
  }
  return out;
}

std::vector<ListeningSocket> listeningSockets(const fs::path& procRoot) {
  std::vector<ListeningSocket> sockets;
  for (const auto& [table, tcp, ipv6] :
       {std::tuple{"tcp", true, false}, std::tuple{"tcp6", true, true},
        std::tuple{"udp", false, false}, std::tuple{"udp6", false, true}}) {
    for (const ProcNetEntry& entry :
         parseProcNet(readWholeFile(procRoot / "net" / table), tcp, ipv6))
      sockets.push_back({.proto = tcp ? "tcp" : "udp",
                         .address = entry.address,
                         .port = entry.port,
                         .process = "",
                         .pid = 0,
                         .inode = entry.inode});
  }
  const auto holders = socketHolders(procRoot);
  for (ListeningSocket& socket : sockets) {
    if (const auto found = holders.find(socket.inode); found != holders.end() && socket.inode) {
      socket.pid = found->second.first;
      socket.process = found->second.second;
    }
  }
  std::sort(sockets.begin(), sockets.end(), [](const ListeningSocket& a, const ListeningSocket& b) {
    return std::tie(a.proto, a.port, a.address, a.inode) <
           std::tie(b.proto, b.port, b.address, b.inode);
  });
  return sockets;
}

}  // namespace banger::guest
