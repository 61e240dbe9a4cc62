#!/usr/bin/env bash
# Installs the Debian packages the tests drive, when missing: `test` for npm test (neovim, chromium),
# (git for the patch series test, make for the kbuild checker test, gcc and headers for the kernel probe), `e2e` for npm run test:e2e (also ripgrep and libkrb5-dev, which code-server's install needs).
# Run by npm's pretest / pretest:e2e hooks and by .ci/run, so the README's commands work on a fresh machine.
set -euo pipefail
group="${1:-test}"
need=()
command -v nvim >/dev/null 2>&1 || need+=(neovim)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v git >/dev/null 2>&1 || need+=(git)
command -v make >/dev/null 2>&1 || need+=(make)
# The kernel probe (server/probe/forksafeProbe.c) is built by the kernel suite: a compiler, libc and the kernel's uapi headers.
command -v gcc >/dev/null 2>&1 || need+=(gcc)
[ -e /usr/include/stdio.h ] || need+=(libc6-dev)
[ -e /usr/include/linux/io_uring.h ] || need+=(linux-libc-dev)
if [ "$group" = e2e ]; then
  command -v rg >/dev/null 2>&1 || need+=(ripgrep)
  [ -e /usr/include/gssapi/gssapi.h ] || need+=(libkrb5-dev)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "forksafe tests need these system packages: ${need[*]} (Debian names). Install them with your package manager, then rerun." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=sudo; else
    echo "forksafe tests need: ${need[*]}. Run as root: apt-get update && apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi
echo "forksafe: installing system packages for the tests: ${need[*]} (apt-get; a minute or two)" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >&2
