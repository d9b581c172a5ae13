#include "oci/registry.h"

#include <curl/curl.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "banger/errors.h"
#include "oci/auth_challenge.h"
#include "oci/sha256.h"

namespace banger::image::oci {
namespace {

constexpr std::chrono::seconds kStallWindow{30};  // a blob that stops arriving is given up on
constexpr int kMaxRedirects = 5;                  // Docker Hub sends blobs to a CDN

bool isLoopback(const std::string& hostPort) {
  std::string host = hostPort;
  if (host.starts_with("["))
    host = host.substr(1, host.find(']') - 1);
  else
    host = host.substr(0, host.find(':'));
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

std::string urlEscape(const std::string& text) {
  char* escaped = curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size()));
  std::string result = escaped ? escaped : "";
  curl_free(escaped);
  return result;
}

// The registry's own words from an error body: {"errors":[{"code":…,"message":…}]}.
std::string registryMessage(const std::string& body) {
  auto root = nlohmann::json::parse(body, nullptr, false);
  std::string text;
  if (root.is_object() && root.contains("errors") && root["errors"].is_array())
    for (const auto& error : root["errors"]) {
      if (!error.is_object()) continue;
      std::string code = error.value("code", std::string());
      std::string message = error.value("message", std::string());
      if (!text.empty()) text += "; ";
      text += code.empty() ? message : code + ": " + message;
    }
  if (text.empty()) text = body.substr(0, 200);
  return text;
}

}  // namespace

RegistryClient::RegistryClient(const http::Client& http, RegistryPolicy policy,
                               const std::atomic<bool>* cancel)
    : http_(http), policy_(std::move(policy)), cancel_(cancel) {}

std::string RegistryClient::baseUrl(const Reference& ref) const {
  bool plain = isLoopback(ref.apiHost) ||
               std::find(policy_.insecureRegistries.begin(), policy_.insecureRegistries.end(),
                         ref.registry) != policy_.insecureRegistries.end();
  return (plain ? "http://" : "https://") + ref.apiHost + "/v2/";
}

void RegistryClient::registryError(const Reference& ref, const http::Request& request,
                                   const http::Response& response) const {
  std::string what = ref.canonical() + ": the registry answered " +
                     std::to_string(response.status) + " to " + request.method + " " + request.url +
                     ": " + registryMessage(response.body);
  switch (response.status) {
    case 401:
    case 403:
      fail(ErrorCode::AccessDenied,
           what + " (private images need credentials, which banger does not send yet)");
    case 404:
      fail(ErrorCode::NotFound, what);
    case 429: {
      auto retry = response.header("retry-after");
      fail(ErrorCode::Unavailable,
           what + (retry ? " (retry after " + *retry + " s)" : std::string()));
    }
    default:
      fail(response.status >= 500 ? ErrorCode::Unavailable : ErrorCode::Failed, what);
  }
}

std::string RegistryClient::token(const Reference& ref, const std::string& header) {
  auto challenge = parseChallenge(header);
  if (!challenge || challenge->scheme != "bearer" || challenge->param("realm").empty())
    fail(ErrorCode::AccessDenied, ref.canonical() + ": the registry asks for '" +
                                      header.substr(0, 200) +
                                      "'; only anonymous bearer tokens are supported");
  std::string scope = challenge->param("scope");
  if (scope.empty()) scope = "repository:" + ref.repository + ":pull";
  {
    std::lock_guard lock(tokensMutex_);
    if (auto cached = tokens_.find(scope); cached != tokens_.end()) return cached->second;
  }
  std::string realm = challenge->param("realm");
  if (!realm.starts_with("https://") &&
      !(realm.starts_with("http://") && baseUrl(ref).starts_with("http://")))
    fail(ErrorCode::AccessDenied, ref.canonical() + ": token realm '" + realm + "' is not https");
  http::Request request;
  request.url = realm + (realm.find('?') == std::string::npos ? "?" : "&") +
                "service=" + urlEscape(challenge->param("service")) + "&scope=" + urlEscape(scope);
  request.totalTimeout = std::chrono::seconds(60);
  request.maxRedirects = kMaxRedirects;
  request.maxBodyBytes = 1 << 20;
  http::Response response = http_.fetch(request, cancel_);
  if (!response.ok()) registryError(ref, request, response);
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  std::string value;
  if (body.is_object()) value = body.value("token", body.value("access_token", std::string()));
  if (value.empty())
    fail(ErrorCode::Failed, ref.canonical() + ": the token service at " + realm + " sent no token");
  std::lock_guard lock(tokensMutex_);
  tokens_[scope] = value;
  return value;
}

http::Response RegistryClient::send(const Reference& ref, http::Request request,
                                    const std::function<void(std::string_view)>* sink) {
  for (int attempt = 0;; ++attempt) {
    http::Response response =
        sink ? http_.stream(request, *sink, cancel_) : http_.fetch(request, cancel_);
    if (response.status != 401 || attempt > 0) {
      if (!response.ok()) registryError(ref, request, response);
      return response;
    }
    auto challenge = response.header("www-authenticate");
    if (!challenge) registryError(ref, request, response);
    request.headers.push_back("Authorization: Bearer " + token(ref, *challenge));
  }
}

FetchedManifest RegistryClient::manifest(const Reference& ref, const std::string& tagOrDigest) {
  http::Request request;
  request.url = baseUrl(ref) + ref.repository + "/manifests/" + tagOrDigest;
  request.headers.push_back(std::string("Accept: ").append(media::kAcceptAll));
  request.totalTimeout = std::chrono::seconds(60);
  request.maxRedirects = kMaxRedirects;
  request.maxBodyBytes = kMaxManifestBytes;
  http::Response response = send(ref, request, nullptr);
  FetchedManifest fetched{response.body, response.header("content-type").value_or(""),
                          sha256Digest(response.body)};
  if (isSha256Digest(tagOrDigest) && fetched.digest != tagOrDigest)
    fail(ErrorCode::IntegrityError, ref.canonical() + ": manifest " + tagOrDigest +
                                        " arrived with digest " + fetched.digest +
                                        "; the registry or something between is corrupting it");
  return fetched;
}

std::string RegistryClient::smallBlob(const Reference& ref, const Descriptor& blob) {
  if (blob.size > kMaxManifestBytes)
    fail(ErrorCode::InvalidArgument, ref.canonical() + ": config " + blob.digest + " claims " +
                                         std::to_string(blob.size) + " bytes");
  std::string bytes;
  streamBlob(ref, blob, [&](std::string_view chunk) {
    if (bytes.size() + chunk.size() > blob.size)
      fail(ErrorCode::IntegrityError,
           ref.canonical() + ": blob " + blob.digest + " is longer than its descriptor");
    bytes.append(chunk);
  });
  std::string digest = sha256Digest(bytes);
  if (digest != blob.digest || bytes.size() != blob.size)
    fail(ErrorCode::IntegrityError, ref.canonical() + ": blob " + blob.digest +
                                        " arrived with digest " + digest + " (" +
                                        std::to_string(bytes.size()) + " bytes)");
  return bytes;
}

void RegistryClient::streamBlob(const Reference& ref, const Descriptor& blob,
                                const std::function<void(std::string_view)>& sink) {
  http::Request request;
  request.url = baseUrl(ref) + ref.repository + "/blobs/" + blob.digest;
  request.maxRedirects = kMaxRedirects;
  request.lowSpeedWindow = kStallWindow;
  send(ref, request, &sink);
}

}  // namespace banger::image::oci
