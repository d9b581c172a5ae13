// `banger doctor`: each line pass, warn or fail with its reason; non-zero exit on any fail.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "bus_client.h"

namespace banger::cli {

enum class Verdict { Pass, Warn, Fail };

struct Check {
  Verdict verdict;
  std::string name;
  std::string reason;
};

// What doctor needs to know about the host, so tests can describe any machine.
class HostInspector {
 public:
  virtual ~HostInspector() = default;
  virtual std::string machine() const = 0;                                  // uname -m
  virtual int kvmAccess(std::string& detail) const = 0;                     // 0 ok, else errno
  virtual std::string findProgram(const std::string& name) const = 0;       // "" if absent
  virtual std::string configuredFirecracker(std::string& error) const = 0;  // from config.toml
  virtual std::string versionOf(const std::string& program) const = 0;      // `program --version`
  // Free bytes on the filesystem holding `path` (or its nearest existing parent).
  virtual std::uint64_t freeBytes(const std::filesystem::path& path) const = 0;
};

class SystemHostInspector final : public HostInspector {
 public:
  std::string machine() const override;
  int kvmAccess(std::string& detail) const override;
  std::string findProgram(const std::string& name) const override;
  std::string configuredFirecracker(std::string& error) const override;
  std::string versionOf(const std::string& program) const override;
  std::uint64_t freeBytes(const std::filesystem::path& path) const override;
};

std::vector<Check> runDoctor(const HostInspector& host, Buses& buses);
// The checks that ask the services (doctor_services.cpp), after each answered its ping.
std::vector<Check> serviceChecks(Buses& buses, bool vmAnswers, bool imageAnswers, bool netAnswers);
// Prints the checks; returns the exit status (1 when any failed).
int printDoctor(const std::vector<Check>& checks, std::ostream& out);

}  // namespace banger::cli
