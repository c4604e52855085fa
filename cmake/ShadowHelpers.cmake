# Build settings every shadow target shares, and helpers to declare libraries and tests.

add_library(shadow_build_flags INTERFACE)
add_library(shadow::build_flags ALIAS shadow_build_flags)
target_compile_options(shadow_build_flags INTERFACE -Wall -Wextra -Wpedantic)
if(SHADOW_WERROR)
  target_compile_options(shadow_build_flags INTERFACE -Werror)
endif()
# simdjson's On-Demand API is compiled into our own code from its header, for the instruction
# set the compiler targets: at the x86-64 baseline that is simdjson's scalar "fallback" kernel,
# with AVX2 it is the "haswell" one (several times faster). `auto` targets x86-64-v3 (AVX2, BMI2,
# LZCNT, MOVBE, plus PCLMUL: every x86 server CPU since 2013) when the build host has it, so the binary runs
# where it was built and on any newer machine; `portable` keeps the baseline.
if(SHADOW_ARCH STREQUAL "native")
  target_compile_options(shadow_build_flags INTERFACE -march=native)
elseif(SHADOW_ARCH STREQUAL "auto" AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  include(CheckCXXSourceRuns)
  check_cxx_source_runs([=[
    int main() {
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
             __builtin_cpu_supports("fma") && __builtin_cpu_supports("pclmul") ? 0 : 1;
    }]=] SHADOW_HOST_HAS_X86_64_V3)
  if(SHADOW_HOST_HAS_X86_64_V3)
    # simdjson also wants PCLMUL (carry-less multiply for string masks) before it will pick
    # its haswell kernel at compile time; x86-64-v3 does not imply it.
    target_compile_options(shadow_build_flags INTERFACE -march=x86-64-v3 -mpclmul)
  endif()
elseif(NOT SHADOW_ARCH MATCHES "^(auto|native|portable)$")
  message(FATAL_ERROR "SHADOW_ARCH must be auto, native or portable, not '${SHADOW_ARCH}'")
endif()
if(SHADOW_SANITIZE)
  target_compile_options(shadow_build_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(shadow_build_flags INTERFACE -fsanitize=address,undefined)
endif()
# A fuzzer build instruments every library too (coverage edges and comparisons for libFuzzer's
# feedback, ASan and UBSan for its findings): with the flags on the fuzz targets alone, libFuzzer
# would see only the target's own file and the headers it inlines, not the code it fuzzes.
if(SHADOW_BUILD_FUZZERS)
  target_compile_options(shadow_build_flags INTERFACE -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  target_link_options(shadow_build_flags INTERFACE -fsanitize=address,undefined)
endif()
if(SHADOW_SANITIZE_THREADS)
  target_compile_options(shadow_build_flags INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(shadow_build_flags INTERFACE -fsanitize=thread)
endif()
# No target sees the project root. Each layer publishes its folder through an include root of its
# own, <build>/include/<folder>/<folder> -> <source>/<folder>, so `#include "sim/flat_book.h"`
# resolves only for targets that link shadow::sim (directly or through a layer above it): a
# lower layer cannot reach a higher one. tests/layer_check.py checks the exact table
# (cmake/layers.txt), including what transitive linking would still let through.
function(shadow_include_root target folder scope)
  set(root ${CMAKE_BINARY_DIR}/include/${folder})
  file(MAKE_DIRECTORY ${root})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${folder} ${root}/${folder} SYMBOLIC)
  target_include_directories(${target} ${scope} ${root})
endfunction()

# shadow_read_layers(<out>): the library layers of cmake/layers.txt in its order (bottom up):
# the rows that do not allow "*" (tools, bench, perf and tests are not layers of the library).
function(shadow_read_layers out)
  file(STRINGS ${PROJECT_SOURCE_DIR}/cmake/layers.txt rows REGEX "^[a-z]+:")
  set(layers)
  foreach(row IN LISTS rows)
    if(NOT row MATCHES "\\*")
      string(REGEX MATCH "^[a-z]+" folder "${row}")
      list(APPEND layers ${folder})
    endif()
  endforeach()
  set(${out} ${layers} PARENT_SCOPE)
endfunction()

# shadow_add_library(<folder> [SOURCES ...] [DEPS ...] [PRIVATE_DEPS ...])
# Declares library shadow_<folder> with alias shadow::<folder>. DEPS are the layers below and the
# third-party libraries its headers expose; PRIVATE_DEPS what only its sources use. With no
# sources it is an INTERFACE (header-only) library.
function(shadow_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  if(ARG_SOURCES)
    add_library(shadow_${name} STATIC ${ARG_SOURCES})
    target_link_libraries(shadow_${name} PUBLIC shadow::build_flags ${ARG_DEPS}
                                         PRIVATE ${ARG_PRIVATE_DEPS})
    shadow_include_root(shadow_${name} ${name} PUBLIC)
  else()
    add_library(shadow_${name} INTERFACE)
    target_link_libraries(shadow_${name} INTERFACE shadow::build_flags ${ARG_DEPS})
    shadow_include_root(shadow_${name} ${name} INTERFACE)
  endif()
  add_library(shadow::${name} ALIAS shadow_${name})
endfunction()

# shadow_add_test(<name> SOURCES ... [DEPS ...] [LABELS ...] [ARGS ...])
# A GoogleTest executable registered with CTest under its labels, so `ctest -L unit` or
# `ctest -L concurrency` picks a slice. Tests find the shared samples through SHADOW_DATA_DIR.
function(shadow_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS;ARGS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main Threads::Threads)
  shadow_include_root(${name} tests PRIVATE)
  add_test(NAME ${name} COMMAND ${name} ${ARG_ARGS})
  set_tests_properties(${name} PROPERTIES
    LABELS "${ARG_LABELS}"
    ENVIRONMENT "SHADOW_DATA_DIR=${SHADOW_DATA_DIR}")
  # `make test-tsan` builds only what the concurrency slice needs.
  if("concurrency" IN_LIST ARG_LABELS)
    if(NOT TARGET concurrency_tests)
      add_custom_target(concurrency_tests)
    endif()
    add_dependencies(concurrency_tests ${name})
  endif()
endfunction()

# shadow_add_benchmark(<name> SOURCES ... [DEPS ...])
function(shadow_add_benchmark name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} benchmark::benchmark Threads::Threads)
  shadow_include_root(${name} bench PRIVATE)
  shadow_include_root(${name} tests PRIVATE)  # the decoders' shared test inputs
  target_compile_definitions(${name} PRIVATE SHADOW_DATA_DIR="${SHADOW_DATA_DIR}")
endfunction()
