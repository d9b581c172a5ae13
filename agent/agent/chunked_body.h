// HTTP/1.1's chunked body (RFC 9112 §7.1), decoded as it arrives: POST /exec's body, which
// the host streams without knowing its length. Outside input from the host's vsock, so it
// is strict and bounded, and fuzzed (tests/fuzz/fuzz_chunked_body.cpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace banger::guest {

class ChunkedDecoder {
 public:
  enum class State { More, Done, Refused };

  // Appends the payload in `input` to `out` and says whether the body has ended (the
  // bytes after its end are left alone: `consumed` tells how many were taken) or is
  // malformed (`reason`).
  State feed(std::string_view input, std::string& out);
  std::size_t consumed() const { return consumed_; }
  const std::string& reason() const { return reason_; }

 private:
  // Lf: a CR was read, its LF must follow, then `afterLf_`.
  enum class Part { Size, Extension, Data, DataEnd, TrailerStart, TrailerLine, Lf };
  State refuse(std::string reason);

  Part part_ = Part::Size;
  Part afterLf_ = Part::Size;
  std::size_t remaining_ = 0;   // of the current chunk's data
  std::size_t digits_ = 0;      // of the chunk size under way
  std::size_t lineLength_ = 0;  // of a size line or a trailer line, bounded
  std::size_t consumed_ = 0;
  std::string reason_;
  State state_ = State::More;
};

}  // namespace banger::guest
