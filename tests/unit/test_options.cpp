#include <gtest/gtest.h>

#include "banger/errors.h"
#include "banger/options.h"

using namespace banger;

namespace {
const std::vector<OptionKey> kSchema = {
    {"name", "s"}, {"vcpus", "u"}, {"nat", "b"}, {"disk_bytes", "t"}};

std::string errorOf(const VariantMap& input) {
  try {
    Options::parse(input, kSchema, "spec");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::InvalidArgument);
    EXPECT_EQ(e.name(), "org.banger.Error.InvalidArgument");
    return e.what();
  }
  ADD_FAILURE() << "accepted";
  return {};
}
}  // namespace

TEST(Options, TypedValuesComeBack) {
  const auto o = Options::parse({{"name", sdbus::Variant(std::string("web"))},
                                 {"vcpus", sdbus::Variant(uint32_t{2})},
                                 {"nat", sdbus::Variant(true)},
                                 {"disk_bytes", sdbus::Variant(uint64_t{1} << 33)}},
                                kSchema);
  EXPECT_EQ(o.string("name"), "web");
  EXPECT_EQ(o.uint32("vcpus"), 2U);
  EXPECT_EQ(o.boolean("nat"), true);
  EXPECT_EQ(o.uint64("disk_bytes"), uint64_t{1} << 33);
  EXPECT_FALSE(Options::parse({}, kSchema).string("name"));
}

TEST(Options, UnknownKeyIsNamed) {
  const auto message = errorOf({{"colour", sdbus::Variant(std::string("red"))}});
  EXPECT_NE(message.find("unknown key 'colour' in spec"), std::string::npos) << message;
  EXPECT_NE(message.find("name, vcpus, nat, disk_bytes"), std::string::npos) << message;
}

TEST(Options, WrongTypeIsNamed) {
  const auto message = errorOf({{"vcpus", sdbus::Variant(std::string("2"))}});
  EXPECT_NE(message.find("key 'vcpus' in spec must have type 'u', not 's'"), std::string::npos)
      << message;
  EXPECT_NE(errorOf({{"disk_bytes", sdbus::Variant(uint32_t{1})}}).find("disk_bytes"),
            std::string::npos);
}

TEST(Errors, TableRoundTrips) {
  for (auto code :
       {ErrorCode::NotFound, ErrorCode::AlreadyExists, ErrorCode::InvalidArgument, ErrorCode::Busy,
        ErrorCode::NotSupported, ErrorCode::Unavailable, ErrorCode::IntegrityError,
        ErrorCode::Timeout, ErrorCode::Canceled, ErrorCode::Failed, ErrorCode::AccessDenied,
        ErrorCode::InteractiveAuthorizationRequired}) {
    EXPECT_EQ(errorCodeFromName(errorName(code)), code) << errorName(code);
  }
  EXPECT_EQ(errorName(ErrorCode::AccessDenied), "org.freedesktop.DBus.Error.AccessDenied");
  EXPECT_EQ(errorName(ErrorCode::NotSupported), "org.banger.Error.NotSupported");
}
