// Whether sshd answers: a TCP connection and the "SSH-2.0-" banner (RFC 4253 §4.2).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace banger::vm {

bool sshAnswers(const std::string& address, uint16_t port, std::chrono::milliseconds timeout);

}  // namespace banger::vm
