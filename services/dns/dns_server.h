// The .vm listener: UDP (batched with recvmmsg/sendmmsg) and TCP (RFC 1035 length
// prefix, pipelining), all on the event loop. A TCP message must arrive whole, and its
// answer be taken, within a fixed time of its first byte however it trickles in; a full
// table (or a source's full share of it) makes room by closing the connection that has
// waited longest, so slow clients cannot lock others out.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "banger/event_loop.h"
#include "tcp_session.h"
#include "zone.h"

namespace banger::dns {

struct Listeners {
  std::vector<int> udp;
  std::vector<int> tcp;
  bool empty() const { return udp.empty() && tcp.empty(); }
};

// Sockets passed by systemd (sd_listen_fds); none without socket activation.
Listeners passedListeners();
// UDP and TCP sockets bound to `address` ("IP:PORT"); throws naming it.
Listeners bindListeners(const std::string& address);
// "IP:PORT" the first of them is bound to; "" for none.
std::string boundAddress(const Listeners& listeners);

class DnsServer {
 public:
  static constexpr size_t kMaxTcpClients = 128;
  static constexpr size_t kMaxTcpPerSource = 32;
  static constexpr std::chrono::seconds kTcpIdle{10};    // between messages
  static constexpr std::chrono::seconds kTcpMessage{3};  // first byte to answer taken

  // `onQuery` runs for every batch served.
  DnsServer(EventLoop& loop, const Zone& zone, std::function<void()> onQuery);
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  // Serves these sockets, taking ownership; `remove` stops serving and closes them.
  // Until start(), added sockets are held unread: queries wait in their buffers.
  void add(const Listeners& listeners);
  void remove(const Listeners& listeners);
  void start();
  bool started() const { return started_; }

 private:
  struct Client {
    TcpSession session;
    uint32_t source = 0;                 // the peer's IPv4 address
    EventLoop::Clock::time_point since;  // when its current wait began
    EventLoop::Clock::time_point deadline() const {
      const bool busy = session.midMessage() || !session.pending().empty();
      return since + (busy ? EventLoop::Clock::duration(kTcpMessage)
                           : EventLoop::Clock::duration(kTcpIdle));
    }
  };
  void serveUdp(int fd);
  void accept(int fd);
  void serveTcp(int fd, short revents);
  bool flush(int fd, Client& client);  // false: the client is gone
  void drop(int fd);
  // Closes the connection from `source` (any, when nullopt) that has waited longest.
  void evictOldest(std::optional<uint32_t> source);
  void sweep();
  void watch(const Listeners& listeners);

  EventLoop& loop_;
  const Zone& zone_;
  Listeners listeners_;
  std::function<void()> onQuery_;
  std::map<int, Client> clients_;
  std::vector<uint8_t> scratch_;
  EventLoop::TimerId sweepTimer_ = 0;
  bool started_ = false;
};

}  // namespace banger::dns
