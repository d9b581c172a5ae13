#include "banger/http.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "banger/errors.h"
#include "banger/text.h"

namespace banger::http {
namespace {

void initCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

// One transfer's state, reached from curl's callbacks.
struct Transfer {
  const Request& request;
  const Client::BodySink* sink = nullptr;  // nullptr: buffer into response.body
  const std::atomic<bool>* cancel = nullptr;
  Response response;
  bool overLimit = false;
  char errorText[CURL_ERROR_SIZE] = {};

  size_t onHeader(std::string_view line) {
    if (line.rfind("HTTP/", 0) == 0) {
      response.headers.clear();  // a new response: after a redirect, or 100 Continue
      return line.size();
    }
    const auto colon = line.find(':');
    if (colon != std::string_view::npos)
      response.headers[asciiLower(std::string(line.substr(0, colon)))] =
          trim(line.substr(colon + 1));
    return line.size();
  }

  size_t onBody(const char* data, size_t size, CURL* curl) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    const bool toSink = sink != nullptr && status >= 200 && status < 300;
    if (toSink) {
      (*sink)(std::string_view(data, size));
      return size;
    }
    if (response.body.size() + size > request.maxBodyBytes) {
      overLimit = true;
      return 0;  // aborts the transfer
    }
    response.body.append(data, size);
    return size;
  }
};

size_t headerCallback(char* data, size_t, size_t size, void* user) {
  return static_cast<Transfer*>(user)->onHeader(std::string_view(data, size));
}

struct BodyContext {
  Transfer* transfer;
  CURL* curl;
};
size_t bodyCallback(char* data, size_t, size_t size, void* user) {
  auto* context = static_cast<BodyContext*>(user);
  return context->transfer->onBody(data, size, context->curl);
}

int progressCallback(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<Transfer*>(user)->cancel;
  return cancel != nullptr && cancel->load() ? 1 : 0;
}

[[noreturn]] void failTransfer(const Transfer& t, CURLcode code) {
  const std::string what = t.request.method + " " + t.request.url +
                           (t.request.unixSocket.empty() ? "" : " on " + t.request.unixSocket);
  const std::string detail = t.errorText[0] != '\0' ? t.errorText : curl_easy_strerror(code);
  switch (code) {
    case CURLE_ABORTED_BY_CALLBACK:
      fail(ErrorCode::Canceled, what + ": canceled");
    case CURLE_OPERATION_TIMEDOUT:
      fail(ErrorCode::Timeout, what + ": " + detail);
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
      fail(ErrorCode::Unavailable, what + ": " + detail);
    case CURLE_WRITE_ERROR:
      if (t.overLimit)
        fail(ErrorCode::Failed, what + ": the answer is larger than " +
                                    std::to_string(t.request.maxBodyBytes) + " bytes");
      [[fallthrough]];
    default:
      fail(ErrorCode::Failed, what + ": " + detail);
  }
}

Response perform(const Request& request, const Client::BodySink* sink,
                 const std::atomic<bool>* cancel) {
  initCurlOnce();
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) fail(ErrorCode::Failed, "cannot create an HTTP transfer (libcurl)");
  CURL* c = curl.get();
  Transfer transfer{request, sink, cancel, {}, false, {}};
  BodyContext bodyContext{&transfer, c};

  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (!request.unixSocket.empty())
    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, request.unixSocket.c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> headers(nullptr, curl_slist_free_all);
  for (const auto& h : request.headers)
    headers.reset(curl_slist_append(headers.release(), h.c_str()));
  if (request.body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body->size()));
    // No "Expect: 100-continue" round trip: Firecracker's API does not answer it.
    headers.reset(curl_slist_append(headers.release(), "Expect:"));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connectTimeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.totalTimeout.count()));
  if (request.lowSpeedWindow.count() > 0) {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.lowSpeedWindow.count()));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, request.lowSpeedBytes);
  }
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, request.maxRedirects > 0 ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, static_cast<long>(request.maxRedirects));
  // Never downgrade: a redirect from https may only go to https.
  const bool secure = request.url.rfind("https://", 0) == 0;
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, secure ? "https" : "http,https");
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // worker threads: no SIGALRM for timeouts
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, transfer.errorText);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, headerCallback);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bodyCallback);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &bodyContext);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progressCallback);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &transfer);

  const CURLcode code = curl_easy_perform(c);
  if (code != CURLE_OK) failTransfer(transfer, code);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &transfer.response.status);
  char* effective = nullptr;
  curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &effective);
  if (effective != nullptr) transfer.response.effectiveUrl = effective;
  return std::move(transfer.response);
}

}  // namespace

std::optional<std::string> Response::header(const std::string& lowerName) const {
  auto it = headers.find(lowerName);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

void requireSuccess(const Request& request, const Response& response) {
  if (response.ok()) return;
  std::string message =
      request.method + " " + request.url + " answered HTTP " + std::to_string(response.status);
  // A short error body usually says why (registries answer JSON errors).
  if (!response.body.empty() && response.body.size() <= 512) message += ": " + trim(response.body);
  fail(response.status == 404 ? ErrorCode::NotFound : ErrorCode::Failed, message);
}

Client::Client() { initCurlOnce(); }

Response Client::fetch(const Request& request, const std::atomic<bool>* cancel) const {
  return perform(request, nullptr, cancel);
}

Response Client::stream(const Request& request, const BodySink& sink,
                        const std::atomic<bool>* cancel) const {
  return perform(request, &sink, cancel);
}

}  // namespace banger::http
