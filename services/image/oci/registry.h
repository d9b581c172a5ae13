// A registry API v2 client on banger's libcurl client: anonymous bearer tokens from the
// WWW-Authenticate challenge, manifests fetched with every media type accepted and
// checked against their digest, blobs streamed. TLS always, except for loopback hosts
// and the registries the user listed in `insecure_registries` (what Docker does).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "banger/http.h"
#include "oci/manifest.h"
#include "oci/reference.h"

namespace banger::image::oci {

struct RegistryPolicy {
  std::vector<std::string> insecureRegistries;  // host[:port], plain HTTP allowed
};

struct FetchedManifest {
  std::string body;
  std::string contentType;
  std::string digest;  // sha256 of the bytes received
};

class RegistryClient {
 public:
  RegistryClient(const http::Client& http, RegistryPolicy policy, const std::atomic<bool>* cancel);

  // GET /v2/<repo>/manifests/<tag|digest>. A digest reference must match the bytes
  // (IntegrityError otherwise).
  FetchedManifest manifest(const Reference& ref, const std::string& tagOrDigest);
  // A small blob (a config) whole, checked against its descriptor.
  std::string smallBlob(const Reference& ref, const Descriptor& blob);
  // A blob's bytes handed to `sink` as they arrive; no check here (the cache hashes).
  void streamBlob(const Reference& ref, const Descriptor& blob,
                  const std::function<void(std::string_view)>& sink);

  std::string baseUrl(const Reference& ref) const;  // "https://host/v2/"

 private:
  http::Response send(const Reference& ref, http::Request request,
                      const std::function<void(std::string_view)>* sink);
  std::string token(const Reference& ref, const std::string& challengeHeader);
  [[noreturn]] void registryError(const Reference& ref, const http::Request& request,
                                  const http::Response& response) const;

  const http::Client& http_;
  RegistryPolicy policy_;
  const std::atomic<bool>* cancel_;
  std::mutex tokensMutex_;
  std::map<std::string, std::string> tokens_;  // scope → token (one pull: no expiry needed)
};

}  // namespace banger::image::oci
