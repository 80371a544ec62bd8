# Finds xxHash through its pkg-config file (Debian's libxxhash-dev ships libxxhash.pc and no CMake package)
# and defines the imported target xxHash::xxhash, the name xxHash's own CMake package uses. Used by the
# build and installed beside sdcodecConfig.cmake for the static package's consumers.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_xxHash QUIET IMPORTED_TARGET libxxhash)
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(xxHash REQUIRED_VARS PC_xxHash_LINK_LIBRARIES VERSION_VAR PC_xxHash_VERSION)
if(xxHash_FOUND AND NOT TARGET xxHash::xxhash)
  add_library(xxHash::xxhash INTERFACE IMPORTED)
  set_target_properties(xxHash::xxhash PROPERTIES INTERFACE_LINK_LIBRARIES PkgConfig::PC_xxHash)
endif()
