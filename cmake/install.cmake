# What `cmake --install BUILD [--prefix DIR]` puts in place (included at the end of CMakeLists.txt):
#   include/sdcodec/             sdcodec.h (C API), sdcodec.hpp (header-only C++ layer), version.h
#   lib/                         the C API: sdc_c_decoder, and sdc_c when the encoder is built (static, or
#                                shared with -DBUILD_SHARED_LIBS=ON); a static install adds the internal
#                                archives they link
#   lib/cmake/sdcodec/           sdcodecConfig.cmake (+ version file, exported targets sdcodec::decoder and
#                                sdcodec::sdcodec; static installs: the zstd and xxHash find modules)
#   lib/pkgconfig/               sdcodec.pc (everything installed) and sdcodec-decoder.pc (decoding only)
#   bin/sdcodec                  the command line tool
# A decoder-only build (-DSDC_BUILD_ENCODER=OFF) installs the decoding half alone. tests/downstream/ builds
# programs against an install both ways (find_package and pkg-config) in scripts/test.sh.
include(CMakePackageConfigHelpers)

set(SDC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/sdcodec)
set(SDC_C_LIBS sdc_c_decoder)
set(SDC_INTERNAL_LIBS sdc_report sdc_decoder sdc_format)
if(SDC_BUILD_ENCODER)
  list(PREPEND SDC_C_LIBS sdc_c)
  # sdc_codec_encode after sdc_encoder, before sdc_format: the link order of static archives.
  list(PREPEND SDC_INTERNAL_LIBS sdc_encoder)
  list(INSERT SDC_INTERNAL_LIBS 1 sdc_codec_encode)
  if(SDC_CUDA)
    list(INSERT SDC_INTERNAL_LIBS 1 sdc_encoder_cuda)
  endif()
endif()
if(BUILD_SHARED_LIBS)
  set(SDC_STATIC_PACKAGE FALSE)
  set(SDC_EXPORTED ${SDC_C_LIBS})
else()
  # Static archives carry no dependencies of their own: a program links the internal archives too.
  set(SDC_STATIC_PACKAGE TRUE)
  set(SDC_EXPORTED ${SDC_C_LIBS} ${SDC_INTERNAL_LIBS} sdc_openmp)
endif()

install(TARGETS ${SDC_EXPORTED} EXPORT sdcodecTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES include/sdcodec/sdcodec.h include/sdcodec/sdcodec.hpp ${SDC_VERSION_INCLUDE_DIR}/sdcodec/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sdcodec)
install(TARGETS sdcodec RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The CMake package.
install(EXPORT sdcodecTargets NAMESPACE sdcodec:: DESTINATION ${SDC_CMAKE_DIR})
if(SDC_BUILD_ENCODER)
  set(SDC_PKG_HAS_ENCODER TRUE)
else()
  set(SDC_PKG_HAS_ENCODER FALSE)
endif()
configure_package_config_file(cmake/sdcodecConfig.cmake.in ${PROJECT_BINARY_DIR}/sdcodecConfig.cmake
                              INSTALL_DESTINATION ${SDC_CMAKE_DIR})
# 0.x: a minor version may change the API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/sdcodecConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/sdcodecConfig.cmake ${PROJECT_BINARY_DIR}/sdcodecConfigVersion.cmake
        DESTINATION ${SDC_CMAKE_DIR})
if(SDC_STATIC_PACKAGE)
  install(FILES cmake/Findzstd.cmake cmake/FindxxHash.cmake DESTINATION ${SDC_CMAKE_DIR})
endif()

# pkg-config files, relocatable (the prefix is found from the file's own place).
file(RELATIVE_PATH SDC_PC_UP /root/${CMAKE_INSTALL_LIBDIR}/pkgconfig /root)
string(REGEX REPLACE "/$" "" SDC_PC_UP "${SDC_PC_UP}")
set(SDC_PC_PREFIX "\${pcfiledir}/${SDC_PC_UP}")
# What a static archive leaves to the program: the internal archives, zstd and xxHash (Requires),
# OpenMP's runtime, the CUDA runtime and the C++ runtime.
function(sdc_pc_static_deps out)
  set(deps "")
  foreach(lib ${ARGN})
    string(APPEND deps " -l${lib}")
  endforeach()
  if(SDC_OPENMP)
    foreach(lib ${OpenMP_CXX_LIB_NAMES})
      string(APPEND deps " -l${lib}")
    endforeach()
  endif()
  if("sdc_encoder_cuda" IN_LIST ARGN)
    string(APPEND deps " -L${CUDAToolkit_LIBRARY_DIR} -lcudart_static -ldl -lrt -lpthread")
  endif()
  set(${out} "${deps} -lstdc++ -lm" PARENT_SCOPE)
endfunction()
foreach(variant decoder full)
  if(variant STREQUAL "decoder")
    set(SDC_PC_NAME sdcodec-decoder)
    set(SDC_PC_DESCRIPTION "sdcodec's C API, decoding only: read .sdc files bit-exactly")
    set(SDC_PC_LIBS "-lsdc_c_decoder")
    set(pc_file sdcodec-decoder.pc)
  else()
    set(SDC_PC_NAME sdcodec)
    set(SDC_PC_DESCRIPTION "sdcodec's C API: store neural network weights in few bytes, give them back exactly")
    list(GET SDC_C_LIBS 0 lib)
    set(SDC_PC_LIBS "-l${lib}")
    set(pc_file sdcodec.pc)
  endif()
  if(SDC_STATIC_PACKAGE)
    set(SDC_PC_REQUIRES "libzstd libxxhash")
    if(variant STREQUAL "decoder")
      sdc_pc_static_deps(deps sdc_report sdc_decoder sdc_format)
    else()
      sdc_pc_static_deps(deps ${SDC_INTERNAL_LIBS})
    endif()
    string(APPEND SDC_PC_LIBS "${deps}")
  else()
    set(SDC_PC_REQUIRES "")
  endif()
  configure_file(cmake/sdcodec.pc.in ${PROJECT_BINARY_DIR}/${pc_file} @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/${pc_file} DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()
