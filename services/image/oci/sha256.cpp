#include "oci/sha256.h"

#include <openssl/evp.h>

#include "banger/errors.h"

namespace banger::image::oci {

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  if (!context_ || EVP_DigestInit_ex(context_, EVP_sha256(), nullptr) != 1)
    fail(ErrorCode::Failed, "OpenSSL: cannot start a SHA-256 digest");
}

Sha256::~Sha256() { EVP_MD_CTX_free(context_); }

void Sha256::update(std::string_view bytes) {
  if (EVP_DigestUpdate(context_, bytes.data(), bytes.size()) != 1)
    fail(ErrorCode::Failed, "OpenSSL: SHA-256 update");
}

std::string Sha256::digest() {
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_, hash, &length) != 1)
    fail(ErrorCode::Failed, "OpenSSL: SHA-256 final");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text = "sha256:";
  for (unsigned int i = 0; i < length; ++i) {
    text += kHex[hash[i] >> 4];
    text += kHex[hash[i] & 15];
  }
  return text;
}

std::string sha256Digest(std::string_view bytes) {
  Sha256 hash;
  hash.update(bytes);
  return hash.digest();
}

}  // namespace banger::image::oci
