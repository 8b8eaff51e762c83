# The win-x64 build of the core (MinGW-w64 GCC, posix threads), included by native/CMakeLists.txt.
#  - circleloss.dll (no "lib" prefix: the name .NET looks for), linked statically against libstdc++,
#    libgcc and winpthread, so it imports only system DLLs (eng/check-native-deps.sh checks the table).
#  - Exports exactly the C ABI: a .def file generated from the header's CIRCLELOSS_API declarations.
#  - The row kernels and Eigen's products compiled once per x86-64 level, chosen at run time
#    (src/cpu/x86_level.h): PE has no ifunc, so GCC's target_clones cannot be used.
target_sources(circleloss PRIVATE
  src/platform/platform_windows.cpp
  src/cpu/x86_level.cpp
  src/cpu/row_kernels_dispatch.cpp
  src/cpu/gemm_eigen.cpp)
target_include_directories(circleloss SYSTEM PRIVATE ${EIGEN3_INCLUDE_DIR})
target_compile_definitions(circleloss PRIVATE EIGEN_DONT_PARALLELIZE EIGEN_NO_DEBUG)

# GCC does not realign the stack for 32- and 64-byte vectors on Windows x64 (GCC bug 54412): the
# assembler turns aligned vector moves into unaligned ones so that spilled AVX registers never fault.
set(CIRCLELOSS_WINDOWS_VECTOR_SAFETY -Wa,-muse-unaligned-vector-move)
target_compile_options(circleloss PRIVATE ${CIRCLELOSS_WINDOWS_VECTOR_SAFETY})

foreach(level x86-64 x86-64-v3 x86-64-v4)
  string(REPLACE "-" "_" isa_namespace "isa_${level}")
  set(kernels circleloss_kernels_${isa_namespace})
  add_library(${kernels} OBJECT src/cpu/row_kernels.cpp src/cpu/gemm_eigen_kernels.cpp)
  target_include_directories(${kernels} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/include ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_include_directories(${kernels} SYSTEM PRIVATE ${EIGEN3_INCLUDE_DIR})
  target_compile_definitions(${kernels} PRIVATE CIRCLELOSS_BUILDING_LIBRARY EIGEN_DONT_PARALLELIZE EIGEN_NO_DEBUG
    CIRCLELOSS_ROW_KERNELS_ISA_NAMESPACE=${isa_namespace} CIRCLELOSS_GEMM_ISA_NAMESPACE=${isa_namespace})
  target_compile_options(${kernels} PRIVATE ${CIRCLELOSS_WARNINGS} -march=${level} -mtune=generic
    ${CIRCLELOSS_WINDOWS_VECTOR_SAFETY})
  target_sources(circleloss PRIVATE $<TARGET_OBJECTS:${kernels}>)
endforeach()

# The export list: every function the public header declares with CIRCLELOSS_API.
set(header ${CMAKE_CURRENT_SOURCE_DIR}/include/circleloss/circleloss.h)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${header})
file(STRINGS ${header} api_lines REGEX "^CIRCLELOSS_API .*circleloss_[a-z0-9_]+\\(")
set(def_text "LIBRARY circleloss.dll\nEXPORTS\n")
foreach(line IN LISTS api_lines)
  string(REGEX MATCH "circleloss_[a-z0-9_]+\\(" name "${line}")
  string(REPLACE "(" "" name "${name}")
  string(APPEND def_text "  ${name}\n")
endforeach()
set(def_file ${CMAKE_CURRENT_BINARY_DIR}/circleloss.def)
file(WRITE ${def_file}.tmp "${def_text}")
configure_file(${def_file}.tmp ${def_file} COPYONLY)  # rewritten only when the list changes

target_link_libraries(circleloss PRIVATE Threads::Threads)
target_link_options(circleloss PRIVATE -static -Wl,--no-undefined ${def_file})
set_target_properties(circleloss PROPERTIES PREFIX "" IMPORT_PREFIX "" LINK_DEPENDS ${def_file})
