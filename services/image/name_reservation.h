// Releases a name reserved for a pull, register or import when the work ends, however
// it ends.
#pragma once

#include <functional>

namespace banger::image {

struct NameReservation {
  std::function<void()> release;
  ~NameReservation() {
    if (release) release();
  }
};

}  // namespace banger::image
