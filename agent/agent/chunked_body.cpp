#include "chunked_body.h"

#include <algorithm>

namespace banger::guest {

namespace {

// A chunk of up to 4 GiB; the host sends 64 KiB ones.
constexpr std::size_t kMaxSizeDigits = 8;
constexpr std::size_t kMaxLine = 4096;

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ChunkedDecoder::State ChunkedDecoder::refuse(std::string reason) {
  reason_ = std::move(reason);
  return state_ = State::Refused;
}

ChunkedDecoder::State ChunkedDecoder::feed(std::string_view input, std::string& out) {
  consumed_ = 0;
  if (state_ != State::More) return state_;
  while (consumed_ < input.size()) {
    if (part_ == Part::Data) {
      const std::size_t take = std::min(remaining_, input.size() - consumed_);
      out.append(input.substr(consumed_, take));
      consumed_ += take;
      remaining_ -= take;
      if (remaining_ == 0) part_ = Part::DataEnd;
      continue;
    }
    const char c = input[consumed_++];
    if (part_ != Part::Lf && part_ != Part::DataEnd && ++lineLength_ > kMaxLine)
      return refuse("a chunk line exceeds 4 KiB");
    switch (part_) {
      case Part::Size:
        if (const int digit = hexValue(c); digit >= 0) {
          if (++digits_ > kMaxSizeDigits) return refuse("a chunk size exceeds 4 GiB");
          remaining_ = remaining_ * 16 + static_cast<std::size_t>(digit);
        } else if (digits_ > 0 && (c == ';' || c == '\r')) {
          part_ = c == ';' ? Part::Extension : Part::Lf;
          afterLf_ = remaining_ == 0 ? Part::TrailerStart : Part::Data;
        } else {
          return refuse("a chunk size is not hexadecimal");
        }
        break;
      case Part::Extension:  // ignored, as RFC 9112 lets a recipient do
        if (c == '\n') return refuse("a chunk line ends without CR");
        if (c == '\r') part_ = Part::Lf;
        break;
      case Part::DataEnd:
        if (c != '\r') return refuse("a chunk's data is longer than its size");
        part_ = Part::Lf;
        afterLf_ = Part::Size;
        break;
      case Part::TrailerStart:
      case Part::TrailerLine:
        if (c == '\n') return refuse("a trailer line ends without CR");
        if (c == '\r') {
          // An empty line ends the body; a trailer field's line is skipped.
          afterLf_ = part_ == Part::TrailerStart ? Part::Lf : Part::TrailerStart;
          part_ = Part::Lf;
        } else {
          part_ = Part::TrailerLine;
        }
        break;
      case Part::Lf:
        if (c != '\n') return refuse("a CR in the chunked body is not followed by LF");
        if (afterLf_ == Part::Lf) return state_ = State::Done;  // the empty line after trailers
        part_ = afterLf_;
        lineLength_ = 0;
        digits_ = 0;
        break;
      case Part::Data:
        break;
    }
  }
  return state_;
}

}  // namespace banger::guest
