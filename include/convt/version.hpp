// convt/version.hpp — library version (semantic versioning: the API is
// stable within a major version; 0.x releases may change it between minor
// versions, which is why find_package accepts only the same 0.minor).
#pragma once

#define CONVT_VERSION_MAJOR 0
#define CONVT_VERSION_MINOR 2
#define CONVT_VERSION_PATCH 0
#define CONVT_VERSION_STRING "0.2.0"
/// One comparable number: major * 10000 + minor * 100 + patch.
#define CONVT_VERSION (CONVT_VERSION_MAJOR * 10000 + CONVT_VERSION_MINOR * 100 + CONVT_VERSION_PATCH)
