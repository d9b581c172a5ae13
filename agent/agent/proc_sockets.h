// The guest's listening sockets as /proc shows them: /proc/net/{tcp,tcp6,udp,udp6} for
// the sockets, /proc/<pid>/fd for who holds each (the socket inode behind "socket:[N]").
// `procRoot` is "/proc" in the guest and a fake tree in tests.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace banger::guest {

struct ListeningSocket {
  std::string proto;    // "tcp" or "udp"
  std::string address;  // "0.0.0.0", "::", "127.0.0.1", "::1", …
  std::uint16_t port = 0;
  std::string process;  // the holder's comm, "" when no process could be found
  int pid = 0;          // the lowest pid holding it, 0 when none
  std::uint64_t inode = 0;
};

struct ProcNetEntry {
  std::string address;
  std::uint16_t port = 0;
  std::uint64_t inode = 0;
};

// The listening (TCP) or bound, unconnected (UDP) entries of one /proc/net table; `ipv6`
// for the tcp6/udp6 layout. Malformed lines are skipped.
std::vector<ProcNetEntry> parseProcNet(std::string_view table, bool tcp, bool ipv6);

// Every listening socket, sorted by proto, port, address.
std::vector<ListeningSocket> listeningSockets(const std::filesystem::path& procRoot);

}  // namespace banger::guest
