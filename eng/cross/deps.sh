#!/usr/bin/env bash
# Installs the Debian packages the cross-built runtimes need, when missing (part of ./build.sh deps):
#   linux-arm64: the arm64 cross compiler, qemu-user, and Debian's arm64 static OpenBLAS, C++ runtime and ICU
#                (multiarch: dpkg --add-architecture arm64; ICU because .NET programs need it, for the smoke test)
#   win-x64:     MinGW-w64 GCC with posix threads, wine64, Eigen (header-only)
# GoogleTest is built from the sources of the host's libgtest-dev.
set -euo pipefail
packages=(crossbuild-essential-arm64 qemu-user libopenblas-pthread-dev:arm64 libstdc++6:arm64 libicu72:arm64
  g++-mingw-w64-x86-64-posix wine64 libeigen3-dev)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
update=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "==> dpkg --add-architecture arm64"
  $sudo dpkg --add-architecture arm64
  update=1
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> installing Debian packages for the cross-built runtimes: ${missing[*]}"
  update=1
fi
if [ "$update" = 1 ]; then
  $sudo apt-get update -qq
fi
if ((${#missing[@]})); then
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
