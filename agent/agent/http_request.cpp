#include "http_request.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace banger::guest {

namespace {

RequestParse refused(int status, std::string reason) {
  RequestParse out;
  out.state = RequestParse::State::Refused;
  out.status = status;
  out.reason = std::move(reason);
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

bool isToken(std::string_view text) {
  if (text.empty()) return false;
  for (const unsigned char c : text)
    if (c <= ' ' || c >= 0x7f ||
        std::string_view("()<>@,;:\\\"/[]?={}").find(static_cast<char>(c)) !=
            std::string_view::npos)
      return false;
  return true;
}

}  // namespace

RequestParse parseRequest(std::string_view buffer) {
  std::size_t end = buffer.find("\r\n\r\n");
  std::size_t terminator = 4;
  if (const std::size_t bare = buffer.find("\n\n"); bare < end) {
    end = bare;
    terminator = 2;
  }
  if (end == std::string_view::npos) {
    if (buffer.size() > kMaxRequestHead) return refused(431, "the request head exceeds 8 KiB");
    return {};
  }
  if (end + terminator > kMaxRequestHead) return refused(431, "the request head exceeds 8 KiB");

  std::string_view head = buffer.substr(0, end);
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    const std::size_t newline = head.find('\n');
    std::string_view line = head.substr(0, newline);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    head.remove_prefix(newline == std::string_view::npos ? head.size() : newline + 1);
  }
  if (lines.empty()) return refused(400, "no request line");

  const std::string_view line = lines.front();
  const std::size_t first = line.find(' ');
  const std::size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos)
    return refused(400, "the request line is not METHOD TARGET VERSION");
  const std::string_view method = line.substr(0, first);
  const std::string_view target = line.substr(first + 1, second - first - 1);
  const std::string_view version = line.substr(second + 1);
  if (!isToken(method)) return refused(400, "the method is not a token");
  if (target.empty() || target.front() != '/') return refused(400, "the target is not a path");
  for (const unsigned char c : target)
    if (c <= ' ' || c >= 0x7f) return refused(400, "the target has a control character");
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return refused(505, "only HTTP/1.0 and HTTP/1.1 are spoken");

  RequestParse out;
  out.state = RequestParse::State::Complete;
  out.request.method = method;
  const std::size_t question = target.find('?');
  out.request.path = target.substr(0, question);
  if (question != std::string_view::npos) out.request.query = target.substr(question + 1);
  out.request.keepAlive = version == "HTTP/1.1";
  out.consumed = end + terminator;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::size_t colon = lines[i].find(':');
    if (colon == std::string_view::npos || !isToken(lines[i].substr(0, colon)))
      return refused(400, "a header line is not NAME: VALUE");
    const std::string name = lower(lines[i].substr(0, colon));
    const std::string value = lower(trim(lines[i].substr(colon + 1)));
    if (name == "content-length" && value != "0")
      return refused(413, "the agent takes bodies only chunked, at POST /exec");
    if (name == "transfer-encoding" && value != "chunked")
      return refused(501, "a body is taken only with Transfer-Encoding: chunked");
    if (name == "transfer-encoding") out.request.chunked = true;
    if (name == "expect" && value != "100-continue")
      return refused(417, "only 100-continue is expected");
    if (name == "expect") out.request.expectContinue = true;
    if (name == "connection" && value == "close") out.request.keepAlive = false;
    if (name == "connection" && value == "keep-alive") out.request.keepAlive = true;
  }
  return out;
}

}  // namespace banger::guest
