// SSH without trust on first use (DESIGN §1, docs/ssh.md): the user's key banger puts into
// every VM, a host key per VM made by the service, and banger's own known_hosts and
// ssh_config, regenerated from the machines' records. ~/.ssh/config is never touched.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace banger::vm {

// An Ed25519 key pair in OpenSSH's own formats: the private half as ssh-keygen writes it
// ("-----BEGIN OPENSSH PRIVATE KEY-----", unencrypted), the public half as one line
// "ssh-ed25519 AAAA… comment".
struct KeyPair {
  std::string privateKey;
  std::string publicKey;
};

// Made with libcrypto, without running ssh-keygen.
KeyPair generateKeyPair(const std::string& comment);

// The user's key at `privatePath` (and `privatePath`.pub), made on first use with the
// directory 0700 and the key 0600. Returns the public line. InvalidArgument naming the
// path when a private key is there without its .pub.
std::string ensureUserKey(const std::filesystem::path& privatePath);

struct KnownMachine {
  std::string name;
  std::string address;        // empty when it has no lease
  std::string hostPublicKey;  // empty when none was made yet
};

struct SshFiles {
  std::filesystem::path identity;    // the user's private key
  std::filesystem::path knownHosts;  // ~/.config/banger/ssh/known_hosts
  std::filesystem::path config;      // ~/.config/banger/ssh_config
};

// Rewrites known_hosts (NAME, NAME.vm and the address, per machine) and ssh_config
// (Host *.vm and one block per machine with its address), each atomically.
void writeSshFiles(const SshFiles& files, const std::vector<KnownMachine>& machines);

}  // namespace banger::vm
