# Finds zstd through its pkg-config file (Debian's libzstd-dev ships libzstd.pc and no CMake package) and
# defines the imported target zstd::libzstd, the name zstd's own CMake package uses. Used by the build and
# installed beside sdcodecConfig.cmake for the static package's consumers.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_zstd QUIET IMPORTED_TARGET libzstd)
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(zstd REQUIRED_VARS PC_zstd_LINK_LIBRARIES VERSION_VAR PC_zstd_VERSION)
if(zstd_FOUND AND NOT TARGET zstd::libzstd)
  add_library(zstd::libzstd INTERFACE IMPORTED)
  set_target_properties(zstd::libzstd PROPERTIES INTERFACE_LINK_LIBRARIES PkgConfig::PC_zstd)
endif()
