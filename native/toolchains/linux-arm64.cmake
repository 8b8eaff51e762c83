# Cross build for linux-arm64 on a Debian x86-64 machine: crossbuild-essential-arm64, Debian's arm64
# static OpenBLAS (libopenblas-pthread-dev:arm64), tests run under qemu-user (eng/cross/).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# No -L sysroot: the arm64 runtime libraries are installed through multiarch, and qemu-aarch64 finds them
# where the target's own loader looks (mixing the cross loader with multiarch libc hangs before main).
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-U;OPENBLAS_CORETYPE;-U;OPENBLAS_L2_SIZE)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
