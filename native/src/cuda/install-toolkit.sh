#!/usr/bin/env bash
# Installs Debian's CUDA toolkit (nvidia-cuda-toolkit, CUDA 11.8 on bookworm) so that CI can compile the
# CUDA provider. The package lives in Debian's `non-free` component, which this script adds to the
# existing apt sources (deb822 `*.sources` files or one-line `sources.list` entries) if it is missing,
# together with `contrib` (its dependency libcuda1 needs nvidia-support from there; no kernel module is
# installed: --no-install-recommends).
# Idempotent: a second run changes nothing and returns quickly when nvcc is already installed.
# Needs root (or sudo). nvcc 11.8 does not accept GCC 12 as host compiler: the CMake build picks
# clang-14 (installed here too) or g++-11.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

have_toolkit() {
    command -v nvcc >/dev/null 2>&1 && command -v clang++-14 >/dev/null 2>&1 &&
        [ -e /usr/include/cublas_v2.h ] && [ -e /usr/lib/x86_64-linux-gnu/libcudart_static.a ]
}

if have_toolkit; then
    echo "install-toolkit: $(nvcc --version | tail -n 2 | head -n 1) already installed"
    exit 0
fi

changed=0
# deb822 sources: add each missing component to every "Components:" line that has main.
shopt -s nullglob
for f in /etc/apt/sources.list.d/*.sources; do
    for component in contrib non-free; do
        if grep -Eq '^Components:(.*[[:space:]])?main([[:space:]]|$)' "$f" &&
            grep -E '^Components:(.*[[:space:]])?main([[:space:]]|$)' "$f" |
            grep -Evq "[[:space:]]${component}([[:space:]]|\$)"; then
            $SUDO sed -i -E "/^Components:(.*[[:space:]])?main([[:space:]]|\$)/{/[[:space:]]${component}([[:space:]]|\$)/!s/\$/ ${component}/}" "$f"
            echo "install-toolkit: added ${component} to $f"
            changed=1
        fi
    done
done
# one-line sources: "deb URI suite main ..." lines.
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    for component in contrib non-free; do
        if grep -Eq '^deb[[:space:]].*[[:space:]]main([[:space:]]|$)' "$f" &&
            grep -E '^deb[[:space:]].*[[:space:]]main([[:space:]]|$)' "$f" |
            grep -Evq "[[:space:]]${component}([[:space:]]|\$)"; then
            $SUDO sed -i -E "/^deb[[:space:]].*[[:space:]]main([[:space:]]|\$)/{/[[:space:]]${component}([[:space:]]|\$)/!s/\$/ ${component}/}" "$f"
            echo "install-toolkit: added ${component} to $f"
            changed=1
        fi
    done
done

if [ "$changed" -eq 1 ] || ! apt-cache show nvidia-cuda-toolkit >/dev/null 2>&1; then
    $SUDO apt-get update -qq
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -qq --no-install-recommends nvidia-cuda-toolkit nvidia-cuda-dev clang-14 >/dev/null
echo "install-toolkit: $(nvcc --version | tail -n 2 | head -n 1)"
