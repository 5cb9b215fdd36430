#!/bin/sh
# Writes the zig compiler/linker wrappers into $1, the same ones `cargo zigbuild` (the pinned
# cargo-zigbuild of scripts/build-static.sh) generates for these targets: `cargo-zigbuild zig cc`
# with zig's target and CPU, which also filters the arguments rustc passes that zig does not take.
# Run inside the image by scripts/cross/Containerfile.
set -eu
out="$1"
czb=/opt/zig/bin/cargo-zigbuild
mkdir -p "$out"
wrap() { # name, zig subcommand, extra arguments
  {
    echo '#!/bin/sh'
    echo "export CARGO_ZIGBUILD_ZIG_VERSION=$ZIGLANG_VERSION"
    echo "exec $czb zig $2 -- $3 \"\$@\""
  } >"$out/$1"
  chmod 755 "$out/$1"
}
for pair in \
  "mipsel-unknown-linux-musl|-target mipsel-linux-musleabi" \
  "mips-unknown-linux-musl|-target mips-linux-musleabi" \
  "armv7-unknown-linux-musleabihf|-mcpu=generic+v7a+vfp3-d32+thumb2-neon -target arm-linux-musleabihf" \
  "aarch64-unknown-linux-musl|-target aarch64-linux-musl" \
  "x86_64-unknown-linux-musl|-target x86_64-linux-musl"; do
  t="${pair%%|*}"
  zt="${pair#*|}"
  wrap "zigcc-$t" cc "-g -fno-sanitize=all $zt"
  wrap "zigcxx-$t" c++ "-g -fno-sanitize=all $zt"
done
wrap zigranlib ranlib ""
# cargo-zigbuild acts as `zig ar` when it is called by the name `ar`.
ln -sf "$czb" "$out/ar"
