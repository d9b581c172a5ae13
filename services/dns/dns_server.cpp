#include "dns_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "banger/errors.h"
#include "banger/listen.h"
#include "banger/log.h"
#include "dns_message.h"

namespace banger::dns {
namespace {
constexpr size_t kBatch = 64;
constexpr size_t kUdpIn = 4096;

void setNonBlocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

}  // namespace

Listeners passedListeners() {
  Listeners l;
  const int n = sd_listen_fds(1);
  for (int fd = SD_LISTEN_FDS_START; n > 0 && fd < SD_LISTEN_FDS_START + n; ++fd) {
    if (sd_is_socket(fd, AF_UNSPEC, SOCK_DGRAM, -1) > 0) {
      l.udp.push_back(fd);
    } else if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0) {
      l.tcp.push_back(fd);
    } else {
      log::warning("ignoring passed fd " + std::to_string(fd) +
                   ": neither a datagram nor a listening stream socket");
    }
  }
  return l;
}

Listeners bindListeners(const std::string& address) {
  const auto endpoint = Ipv4Endpoint::parse(address);
  if (!endpoint)
    fail(ErrorCode::InvalidArgument,
         "listen address must be IPv4:PORT (port 1-65535), not '" + address + "'");
  const auto sockets = listenUdpAndTcp(*endpoint);
  return Listeners{{sockets.udp}, {sockets.tcp}};
}

std::string boundAddress(const Listeners& listeners) {
  const int fd = !listeners.udp.empty()   ? listeners.udp.front()
                 : !listeners.tcp.empty() ? listeners.tcp.front()
                                          : -1;
  sockaddr_in sa{};
  socklen_t length = sizeof sa;
  if (fd < 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &length) != 0 ||
      sa.sin_family != AF_INET) {
    return {};
  }
  return Ipv4Endpoint{Ipv4{ntohl(sa.sin_addr.s_addr)}, ntohs(sa.sin_port)}.str();
}

DnsServer::DnsServer(EventLoop& loop, const Zone& zone, std::function<void()> onQuery)
    : loop_(loop), zone_(zone), onQuery_(std::move(onQuery)), scratch_(kMaxMessage) {
  sweep();
}

DnsServer::~DnsServer() {
  loop_.cancelTimer(sweepTimer_);
  for (auto& [fd, client] : clients_) {
    loop_.removeFd(fd);
    close(fd);
  }
  remove(listeners_);
}

void DnsServer::add(const Listeners& listeners) {
  for (int fd : listeners.udp) setNonBlocking(fd);
  for (int fd : listeners.tcp) setNonBlocking(fd);
  listeners_.udp.insert(listeners_.udp.end(), listeners.udp.begin(), listeners.udp.end());
  listeners_.tcp.insert(listeners_.tcp.end(), listeners.tcp.begin(), listeners.tcp.end());
  if (started_) watch(listeners);
}

void DnsServer::start() {
  if (started_) return;
  started_ = true;
  watch(listeners_);
}

void DnsServer::watch(const Listeners& listeners) {
  for (int fd : listeners.udp) loop_.addFd(fd, POLLIN, [this, fd](short) { serveUdp(fd); });
  for (int fd : listeners.tcp) loop_.addFd(fd, POLLIN, [this, fd](short) { accept(fd); });
}

void DnsServer::remove(const Listeners& listeners) {
  const Listeners gone = listeners;  // may be listeners_ itself
  for (const auto& [fds, mine] :
       {std::pair{&gone.udp, &listeners_.udp}, std::pair{&gone.tcp, &listeners_.tcp}}) {
    for (int fd : *fds) {
      loop_.removeFd(fd);
      close(fd);
      mine->erase(std::remove(mine->begin(), mine->end(), fd), mine->end());
    }
  }
}

void DnsServer::serveUdp(int fd) {
  // Batches: one recvmmsg and one sendmmsg for up to 64 queries.
  static std::array<std::array<uint8_t, kUdpIn>, kBatch> in;
  static std::array<std::array<uint8_t, kOurPayload>, kBatch> out;
  static std::array<sockaddr_storage, kBatch> peers;
  std::array<iovec, kBatch> inVec{}, outVec{};
  std::array<mmsghdr, kBatch> inMsg{}, outMsg{};
  // Until the socket is drained (a query that arrived while the last batch was being
  // answered is taken now, without another poll), but bounded, so D-Bus and TCP get
  // their turn.
  for (int round = 0; round < 16; ++round) {
    for (size_t i = 0; i < kBatch; ++i) {
      inVec[i] = {in[i].data(), in[i].size()};
      inMsg[i].msg_hdr = {};
      inMsg[i].msg_hdr.msg_iov = &inVec[i];
      inMsg[i].msg_hdr.msg_iovlen = 1;
      inMsg[i].msg_hdr.msg_name = &peers[i];
      inMsg[i].msg_hdr.msg_namelen = sizeof peers[i];
    }
    const int received = recvmmsg(fd, inMsg.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (received <= 0) return;
    unsigned replies = 0;
    for (int i = 0; i < received; ++i) {
      if (inMsg[i].msg_hdr.msg_flags & MSG_TRUNC) continue;  // over 4 KiB: not a query
      const size_t n = answer(in[i].data(), inMsg[i].msg_len, zone_, out[replies].data(), false);
      if (n == 0) continue;
      outVec[replies] = {out[replies].data(), n};
      outMsg[replies].msg_hdr = {};
      outMsg[replies].msg_hdr.msg_iov = &outVec[replies];
      outMsg[replies].msg_hdr.msg_iovlen = 1;
      outMsg[replies].msg_hdr.msg_name = &peers[i];
      outMsg[replies].msg_hdr.msg_namelen = inMsg[i].msg_hdr.msg_namelen;
      ++replies;
    }
    for (unsigned sent = 0; sent < replies;) {
      const int n = sendmmsg(fd, outMsg.data() + sent, replies - sent, MSG_DONTWAIT);
      if (n <= 0) break;  // a full socket buffer drops replies, as UDP may
      sent += static_cast<unsigned>(n);
    }
    if (onQuery_) onQuery_();
  }
}

void DnsServer::accept(int listenFd) {
  for (;;) {
    sockaddr_in peer{};
    socklen_t length = sizeof peer;
    const int fd = accept4(listenFd, reinterpret_cast<sockaddr*>(&peer), &length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    const uint32_t source = peer.sin_family == AF_INET ? ntohl(peer.sin_addr.s_addr) : 0;
    size_t fromSource = 0;
    for (const auto& [other, client] : clients_) fromSource += client.source == source;
    if (fromSource >= kMaxTcpPerSource) {
      evictOldest(source);
    } else if (clients_.size() >= kMaxTcpClients) {
      evictOldest(std::nullopt);
    }
    Client& client = clients_[fd];
    client.source = source;
    client.since = EventLoop::Clock::now();
    loop_.addFd(fd, POLLIN, [this, fd](short revents) { serveTcp(fd, revents); });
  }
}

void DnsServer::evictOldest(std::optional<uint32_t> source) {
  auto oldest = clients_.end();
  for (auto it = clients_.begin(); it != clients_.end(); ++it) {
    if (source && it->second.source != *source) continue;
    if (oldest == clients_.end() || it->second.since < oldest->second.since) oldest = it;
  }
  if (oldest != clients_.end()) drop(oldest->first);
}

void DnsServer::serveTcp(int fd, short revents) {
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  Client& client = it->second;
  if (revents & POLLOUT) {
    if (!flush(fd, client)) return;
  }
  if (!(revents & (POLLIN | POLLHUP | POLLERR))) return;
  uint8_t buffer[16384];
  const ssize_t n = read(fd, buffer, sizeof buffer);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    drop(fd);
    return;
  }
  const bool wasMidMessage = client.session.midMessage();
  const size_t answeredBefore = client.session.answered();
  if (!client.session.receive(buffer, static_cast<size_t>(n), zone_, scratch_.data())) {
    drop(fd);  // garbage that earns no answer: this client is done
    return;
  }
  // A new wait starts when a message starts (or all are answered); more bytes of one
  // that has started never move its deadline.
  if (!client.session.midMessage() || !wasMidMessage ||
      client.session.answered() > answeredBefore) {
    client.since = EventLoop::Clock::now();
  }
  if (onQuery_) onQuery_();
  flush(fd, client);
}

bool DnsServer::flush(int fd, Client& client) {
  while (!client.session.pending().empty()) {
    const auto& out = client.session.pending();
    const ssize_t n = send(fd, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
    if (n <= 0) {
      drop(fd);
      return false;
    }
    client.session.sent(static_cast<size_t>(n));
  }
  // A client that does not read its answers stops being read until it does.
  loop_.addFd(fd, client.session.pending().empty() ? POLLIN : POLLOUT,
              [this, fd](short revents) { serveTcp(fd, revents); });
  return true;
}

void DnsServer::drop(int fd) {
  loop_.removeFd(fd);
  close(fd);
  clients_.erase(fd);
}

void DnsServer::sweep() {
  const auto now = EventLoop::Clock::now();
  std::vector<int> late;
  for (const auto& [fd, client] : clients_) {
    if (now > client.deadline()) late.push_back(fd);
  }
  for (int fd : late) drop(fd);
  sweepTimer_ = loop_.addTimer(std::chrono::seconds(1), [this] { sweep(); });
}

}  // namespace banger::dns
