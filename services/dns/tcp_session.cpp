#include "tcp_session.h"

#include "dns_message.h"

namespace banger::dns {

bool TcpSession::receive(const uint8_t* data, size_t size, const Zone& zone, uint8_t* scratch) {
  in_.insert(in_.end(), data, data + size);
  size_t at = 0;
  while (in_.size() - at >= 2) {
    const size_t length = static_cast<size_t>(in_[at] << 8 | in_[at + 1]);
    if (in_.size() - at - 2 < length) break;
    const size_t reply = answer(in_.data() + at + 2, length, zone, scratch, true);
    if (reply == 0) return false;
    out_.push_back(static_cast<uint8_t>(reply >> 8));
    out_.push_back(static_cast<uint8_t>(reply));
    out_.insert(out_.end(), scratch, scratch + reply);
    ++answered_;
    at += 2 + length;
  }
  in_.erase(in_.begin(), in_.begin() + static_cast<long>(at));
  return true;
}

void TcpSession::sent(size_t n) { out_.erase(out_.begin(), out_.begin() + static_cast<long>(n)); }

}  // namespace banger::dns
