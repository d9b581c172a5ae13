#include "ssh_keys.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdint>
#include <memory>

#include "banger/errors.h"
#include "banger/files.h"
#include "banger/ssh_command.h"

namespace banger::vm {
namespace {

namespace fs = std::filesystem;

// SSH wire encoding (RFC 4251 §5): strings are a 32-bit big-endian length and the bytes.
void putUint32(std::string& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(value >> shift));
}
void putString(std::string& out, std::string_view bytes) {
  putUint32(out, static_cast<uint32_t>(bytes.size()));
  out.append(bytes);
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace

KeyPair generateKeyPair(const std::string& comment) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
      EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* raw = nullptr;
  if (!context || EVP_PKEY_keygen_init(context.get()) <= 0 ||
      EVP_PKEY_keygen(context.get(), &raw) <= 0)
    fail(ErrorCode::Failed, "generating an Ed25519 key failed in libcrypto");
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw, EVP_PKEY_free);
  std::string seed(32, '\0'), pub(32, '\0');
  size_t seedLength = seed.size(), pubLength = pub.size();
  if (EVP_PKEY_get_raw_private_key(key.get(), reinterpret_cast<unsigned char*>(seed.data()),
                                   &seedLength) <= 0 ||
      EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(pub.data()),
                                  &pubLength) <= 0)
    fail(ErrorCode::Failed, "reading an Ed25519 key back from libcrypto failed");

  std::string publicBlob;
  putString(publicBlob, "ssh-ed25519");
  putString(publicBlob, pub);

  // openssh-key-v1 (OpenSSH's PROTOCOL.key), unencrypted: a check word twice, the key
  // (seed followed by the public half, as OpenSSH stores Ed25519), the comment, padding.
  uint32_t check = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&check), sizeof check);
  std::string secret;
  putUint32(secret, check);
  putUint32(secret, check);
  putString(secret, "ssh-ed25519");
  putString(secret, pub);
  putString(secret, seed + pub);
  putString(secret, comment);
  for (char pad = 1; secret.size() % 8 != 0; ++pad) secret.push_back(pad);

  std::string blob = "openssh-key-v1";
  blob.push_back('\0');
  putString(blob, "none");
  putString(blob, "none");
  putString(blob, "");
  putUint32(blob, 1);
  putString(blob, publicBlob);
  putString(blob, secret);
  OPENSSL_cleanse(seed.data(), seed.size());

  const std::string encoded = base64(blob);
  KeyPair pair;
  pair.privateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  for (size_t at = 0; at < encoded.size(); at += 70)
    pair.privateKey += encoded.substr(at, 70) + "\n";
  pair.privateKey += "-----END OPENSSH PRIVATE KEY-----\n";
  OPENSSL_cleanse(secret.data(), secret.size());
  OPENSSL_cleanse(blob.data(), blob.size());
  pair.publicKey = "ssh-ed25519 " + base64(publicBlob) + (comment.empty() ? "" : " " + comment);
  return pair;
}

std::string ensureUserKey(const fs::path& privatePath) {
  const fs::path publicPath = privatePath.string() + ".pub";
  std::error_code ec;
  if (fs::exists(privatePath, ec)) {
    if (!fs::exists(publicPath, ec))
      fail(ErrorCode::InvalidArgument, "the SSH key " + privatePath.string() + " has no " +
                                           publicPath.filename().string() +
                                           " beside it; make one with: ssh-keygen -y -f " +
                                           privatePath.string() + " > " + publicPath.string());
    std::string line = readTextFileIfExists(publicPath).value_or("");
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
  }
  fs::create_directories(privatePath.parent_path(), ec);
  fs::permissions(privatePath.parent_path(), fs::perms::owner_all, ec);
  const KeyPair pair = generateKeyPair("banger");
  writeFileAtomically(publicPath, pair.publicKey + "\n", 0644);
  writeFileAtomically(privatePath, pair.privateKey, 0600);
  return pair.publicKey;
}

void writeSshFiles(const SshFiles& files, const std::vector<KnownMachine>& machines) {
  std::string known = "# Written by banger: the host key of each of your VMs.\n";
  std::string config =
      "# Written by banger; include it from ~/.ssh/config with `banger ssh-config --install`.\n";
  // The settings below hold for NAME.vm and for the bare NAME of each machine.
  std::string patterns = "*.vm";
  for (const KnownMachine& machine : machines) {
    if (machine.address.empty()) continue;
    patterns += " " + machine.name;
    config += "\nHost " + machine.name + " " + machine.name + ".vm\n  HostName " + machine.address +
              "\n  HostKeyAlias " + machine.name + ".vm\n";
    if (!machine.hostPublicKey.empty())
      known += machine.name + ".vm " + machine.hostPublicKey + "\n";
  }
  config += "\nHost " + patterns + "\n  User root\n  IdentityFile " + files.identity.string() +
            "\n  IdentitiesOnly yes\n  UserKnownHostsFile " + files.knownHosts.string() +
            "\n  StrictHostKeyChecking yes\n  CheckHostIP no\n  LogLevel ERROR\n  KexAlgorithms " +
            kSshKex + "\n";
  std::error_code ec;
  fs::create_directories(files.knownHosts.parent_path(), ec);
  fs::create_directories(files.config.parent_path(), ec);
  // Both are made again from the records at every change and every service start.
  writeFileAtomically(files.knownHosts, known, 0644, Durability::Regenerable);
  writeFileAtomically(files.config, config, 0644, Durability::Regenerable);
}

}  // namespace banger::vm
