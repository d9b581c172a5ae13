// One published image as the Image service keeps it (DESIGN §3 org.banger.Image1.Image),
// and the rules for image names.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace banger::image {

struct ImageRecord {
  std::string name{};
  std::string id{};         // the directory its files live in: images/<id>/
  std::string source{};     // catalog | oci | bundle | registered
  std::string reference{};  // what was pulled or registered from
  std::string digest{};     // the image manifest's digest (OCI); empty otherwise
  std::string kernel{};     // a kernel name, or a vmlinux path for registered images
  std::string initrd{};     // registered images only
  std::uint64_t rootfsBytes = 0;
  std::uint64_t createdAtUs = 0;
};

inline constexpr std::size_t kMaxImageName = 64;

std::uint64_t nowMicroseconds();  // CreatedAt: µs since the epoch

// Why `name` is not an image name ("" when it is): 1-64 characters of lower-case
// letters, digits, '.', '_' and '-', starting with a letter or digit.
std::string imageNameProblem(std::string_view name);
void requireImageName(std::string_view name);  // InvalidArgument naming the rule

// The name an image pulled from `repository` (its last path element) at `tag` or
// `digest` gets when none is given: alpine:3.20 → alpine-3.20, debian:latest → debian,
// app@sha256:abcd… → app-abcd12345678.
std::string defaultImageName(std::string_view repository, std::string_view tag,
                             std::string_view digest);

}  // namespace banger::image
