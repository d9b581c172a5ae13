// Incremental SHA-256 (OpenSSL's EVP) for digests checked while bytes stream past.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace banger::image::oci {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view bytes);
  // "sha256:<64 hex>"; the hash cannot be updated afterwards.
  std::string digest();

 private:
  evp_md_ctx_st* context_;
};

std::string sha256Digest(std::string_view bytes);

}  // namespace banger::image::oci
