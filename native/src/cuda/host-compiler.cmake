# Picks a host compiler that the installed nvcc accepts, before CUDA is checked or enabled.
#
# nvcc 11.8 (Debian bookworm's nvidia-cuda-toolkit) refuses GCC 12, the system compiler there; clang 14
# and GCC 11 work. CMake's check_language(CUDA) runs a separate CMake process that does not see
# CMAKE_CUDA_HOST_COMPILER, but it does see the CUDAHOSTCXX environment variable, so this file sets both.
# Include it before check_language(CUDA) / enable_language(CUDA). An explicit CMAKE_CUDA_HOST_COMPILER
# or CUDAHOSTCXX wins. The choice is made by compiling a one-line .cu file with each candidate in turn.
include_guard(GLOBAL)

if(NOT DEFINED CMAKE_CUDA_HOST_COMPILER AND NOT DEFINED ENV{CUDAHOSTCXX})
  set(_circleloss_nvcc "")
  if(DEFINED CMAKE_CUDA_COMPILER AND CMAKE_CUDA_COMPILER)
    set(_circleloss_nvcc "${CMAKE_CUDA_COMPILER}")
  elseif(DEFINED ENV{CUDACXX})
    set(_circleloss_nvcc "$ENV{CUDACXX}")
  else()
    find_program(_circleloss_nvcc_found nvcc PATHS /usr/local/cuda/bin)
    if(_circleloss_nvcc_found)
      set(_circleloss_nvcc "${_circleloss_nvcc_found}")
    endif()
  endif()
  if(_circleloss_nvcc)
    set(_probe_dir "${CMAKE_BINARY_DIR}/CMakeFiles/circleloss_cuda_host_probe")
    file(MAKE_DIRECTORY "${_probe_dir}")
    file(WRITE "${_probe_dir}/probe.cu" "__global__ void k(int* p) { *p = 1; }\nint main() { return 0; }\n")
    set(_chosen "")
    # "" = nvcc's default host compiler (the system c++).
    foreach(_candidate "" clang++-14 g++-11 clang++-15 clang++-13 g++-10)
      if(_candidate STREQUAL "")
        set(_ccbin_args "")
      else()
        find_program(_candidate_path_${_candidate} ${_candidate})
        if(NOT _candidate_path_${_candidate})
          continue()
        endif()
        set(_ccbin_args -ccbin "${_candidate_path_${_candidate}}")
      endif()
      execute_process(
        COMMAND "${_circleloss_nvcc}" ${_ccbin_args} -c probe.cu -o probe.o
        WORKING_DIRECTORY "${_probe_dir}"
        RESULT_VARIABLE _probe_result OUTPUT_QUIET ERROR_QUIET)
      if(_probe_result EQUAL 0)
        if(_candidate STREQUAL "")
          set(_chosen "default")
        else()
          set(_chosen "${_candidate_path_${_candidate}}")
        endif()
        break()
      endif()
    endforeach()
    if(_chosen STREQUAL "")
      message(STATUS "CircleLoss CUDA: ${_circleloss_nvcc} accepts none of the host compilers tried")
    elseif(_chosen STREQUAL "default")
      message(STATUS "CircleLoss CUDA: ${_circleloss_nvcc} works with its default host compiler")
    else()
      message(STATUS "CircleLoss CUDA: host compiler for ${_circleloss_nvcc}: ${_chosen}")
      set(CMAKE_CUDA_HOST_COMPILER "${_chosen}" CACHE FILEPATH "CUDA host compiler")
      set(ENV{CUDAHOSTCXX} "${_chosen}")
    endif()
  endif()
elseif(NOT DEFINED CMAKE_CUDA_HOST_COMPILER)
  set(CMAKE_CUDA_HOST_COMPILER "$ENV{CUDAHOSTCXX}" CACHE FILEPATH "CUDA host compiler")
elseif(NOT DEFINED ENV{CUDAHOSTCXX})
  # check_language(CUDA) runs a child CMake that only sees the environment.
  set(ENV{CUDAHOSTCXX} "${CMAKE_CUDA_HOST_COMPILER}")
endif()
