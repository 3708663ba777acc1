// pyconc/version.hpp -- the library's version, as the CMake package (find_package(pyconc 0.2))
// reports it. PYCONC_VERSION is MAJOR * 10000 + MINOR * 100 + PATCH, for #if comparisons.
#pragma once

#define PYCONC_VERSION_MAJOR 0
#define PYCONC_VERSION_MINOR 2
#define PYCONC_VERSION_PATCH 0
#define PYCONC_VERSION \
  (PYCONC_VERSION_MAJOR * 10000 + PYCONC_VERSION_MINOR * 100 + PYCONC_VERSION_PATCH)
#define PYCONC_VERSION_STRING "0.2.0"

namespace pyconc {

// The version of the pyconc headers this translation unit was compiled with.
struct Version {
  int major, minor, patch;
};
inline constexpr Version version{PYCONC_VERSION_MAJOR, PYCONC_VERSION_MINOR, PYCONC_VERSION_PATCH};

}  // namespace pyconc
