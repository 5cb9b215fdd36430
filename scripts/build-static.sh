#!/usr/bin/env bash
# Builds the static, stripped router binary for the OpenWrt CPUs, with zig as C compiler and linker.
#
#   scripts/build-static.sh                    # all five targets
#   scripts/build-static.sh mipsel armv7       # a subset (short names or Rust target triples)
#
# Output: dist/bin/<rust-target>/route53-ddns and dist/bin/SIZES.md (stripped and xz -9e sizes).
# Works on a fresh Debian machine without Docker: it installs what it needs (pinned), and keeps
# the zig, cargo-zigbuild and cargo build caches inside build/. See docs/building.md.
#
# Environment (all optional):
#   R53_BUILD_DIR         build directory (default: <repo>/build)
#   R53_DIST_DIR          output directory (default: <repo>/dist/bin)
#   R53_MANIFEST          Cargo.toml of the crate to build (default: the repo's root package)
#   R53_EXTRA_RUSTFLAGS   appended to the per-target RUSTFLAGS (size experiments, bench/size-levers.sh)
#   R53_BUILD_STD_FEATURES  -Zbuild-std-features value (default: optimize_for_size; empty to disable)
#   R53_PANIC             abort | immediate-abort (default: immediate-abort)
#   R53_LOCATION_DETAIL   -Zlocation-detail value (default: none)
#   R53_FMT_DEBUG         -Zfmt-debug value: full | shallow | none (default: none)
#   R53_UNWIND_TABLES     yes | no: -Cforce-unwind-tables (default: no; nothing unwinds)
#   R53_STRIP_PDR         1 | 0: drop the MIPS .pdr section after linking (default: 1)
#   R53_FEATURES          cargo --features for the built package (default: none)
#   R53_NO_INSTALL=1      never install anything; fail if a tool is missing
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${R53_BUILD_DIR:-$ROOT/build}"
DIST="${R53_DIST_DIR:-$ROOT/dist/bin}"
MANIFEST="${R53_MANIFEST:-$ROOT/Cargo.toml}"
BIN=route53-ddns

# Pinned tool versions (PyPI). zig is the C compiler (ring's C/asm) and the linker, with its own musl.
ZIGLANG_VERSION=0.17.1
CARGO_ZIGBUILD_VERSION=0.24.1

ALL_TARGETS=(
  mipsel-unknown-linux-musl
  mips-unknown-linux-musl
  armv7-unknown-linux-musleabihf
  aarch64-unknown-linux-musl
  x86_64-unknown-linux-musl
)

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'build-static: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

resolve_target() {
  case "$1" in
    mipsel|mipsel_24kc|mipsel-unknown-linux-musl) echo mipsel-unknown-linux-musl ;;
    mips|mips_24kc|mips-unknown-linux-musl) echo mips-unknown-linux-musl ;;
    armv7|arm|arm_cortex-a7|arm_cortex-a9|arm_cortex-a15|armv7-unknown-linux-musleabihf)
      echo armv7-unknown-linux-musleabihf ;;
    aarch64|arm64|aarch64_generic|aarch64_cortex-a53|aarch64-unknown-linux-musl) echo aarch64-unknown-linux-musl ;;
    x86_64|amd64|x86_64-unknown-linux-musl) echo x86_64-unknown-linux-musl ;;
    *) die "unknown target '$1' (known: ${ALL_TARGETS[*]})" ;;
  esac
}

targets=()
for a in "$@"; do
  case "$a" in
    -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    all) targets+=("${ALL_TARGETS[@]}") ;;
    *) targets+=("$(resolve_target "$a")") ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

apt_install() {
  [ "${R53_NO_INSTALL:-}" = 1 ] && die "missing: $* (R53_NO_INSTALL=1)"
  say "apt: installing $*"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- Rust: any toolchain >= 1.85 with its library source (rust-src), used with RUSTC_BOOTSTRAP=1 so
# that the tier-3 MIPS targets can have std built from source (-Zbuild-std). Order of preference: the
# rustup toolchain in PATH (adds rust-src if it can), else Debian's rustc-web 1.96 + rust-web-src.
rust_src_of() { echo "$("$1" --print sysroot)/lib/rustlib/src/rust/library/Cargo.lock"; }
RUSTC="$(command -v rustc || true)"
CARGO="$(command -v cargo || true)"
if [ -n "$RUSTC" ] && [ ! -f "$(rust_src_of "$RUSTC")" ] && command -v rustup >/dev/null; then
  say "rust: adding rust-src to the active toolchain"
  rustup component add rust-src >&2 || true
fi
if [ -z "$RUSTC" ] || [ ! -f "$(rust_src_of "$RUSTC")" ]; then
  # Debian's rustc-web/cargo-web install /usr/bin/rustc and /usr/bin/cargo; rust-web-src puts the
  # library source where that rustc's sysroot (/usr) looks for it.
  if [ ! -x /usr/bin/rustc ] || [ ! -f "$(rust_src_of /usr/bin/rustc)" ]; then
    apt_install rustc-web cargo-web rust-web-src
  fi
  RUSTC=/usr/bin/rustc
  CARGO=/usr/bin/cargo
fi
[ -f "$(rust_src_of "$RUSTC")" ] || die "no rust-src for $RUSTC"
export RUSTC CARGO
PATH="$(dirname "$CARGO"):$PATH"
export PATH
export RUSTC_BOOTSTRAP=1

# objcopy that knows MIPS (Debian's plain binutils only knows x86): drops the .pdr section below.
objcopy_knows_mips() { local info; info="$(objcopy --info 2>/dev/null || true)"; [[ "$info" == *mips* ]]; }
if [[ " ${targets[*]} " == *" mips"* ]] && ! objcopy_knows_mips; then
  apt_install binutils-multiarch
fi

# --- zig + cargo-zigbuild from PyPI, pinned, installed inside the build directory.
command -v xz >/dev/null || apt_install xz-utils
TOOLS="$BUILD/tools/py-$ZIGLANG_VERSION-$CARGO_ZIGBUILD_VERSION"
if [ ! -x "$TOOLS/bin/cargo-zigbuild" ] || [ ! -d "$TOOLS/ziglang" ]; then
  [ "${R53_NO_INSTALL:-}" = 1 ] && die "missing zig/cargo-zigbuild in $TOOLS (R53_NO_INSTALL=1)"
  command -v python3 >/dev/null || apt_install python3
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  say "pip: ziglang==$ZIGLANG_VERSION cargo-zigbuild==$CARGO_ZIGBUILD_VERSION -> $TOOLS"
  rm -rf "$TOOLS"
  python3 -m pip install -q --disable-pip-version-check --no-warn-script-location --target "$TOOLS" \
    "ziglang==$ZIGLANG_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION" 2>&1 \
    | grep -v -e 'Running pip as the' -e 'notice' >&2 || true
  [ -x "$TOOLS/bin/cargo-zigbuild" ] || die "pip install of cargo-zigbuild failed"
fi
export PYTHONPATH="$TOOLS${PYTHONPATH:+:$PYTHONPATH}"
# cargo-zigbuild runs `python3 -m ziglang` when there is no `zig` in PATH: give it a zig of our own.
mkdir -p "$BUILD/tools/bin"
cat >"$BUILD/tools/bin/zig" <<EOF
#!/bin/sh
exec "$TOOLS/ziglang/zig" "\$@"
EOF
chmod +x "$BUILD/tools/bin/zig"
export PATH="$BUILD/tools/bin:$TOOLS/bin:$PATH"
export ZIG_GLOBAL_CACHE_DIR="$BUILD/cache/zig"
export ZIG_LOCAL_CACHE_DIR="$BUILD/cache/zig-local"
export XDG_CACHE_HOME="$BUILD/cache"          # cargo-zigbuild's linker wrappers
export CARGO_TARGET_DIR="$BUILD/target"
# Don't let a developer's global flags leak in; everything target-specific is passed below.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS

BUILD_STD_FEATURES="${R53_BUILD_STD_FEATURES-optimize_for_size}"
PANIC="${R53_PANIC:-immediate-abort}"
LOCATION_DETAIL="${R53_LOCATION_DETAIL:-none}"
FMT_DEBUG="${R53_FMT_DEBUG:-none}"
UNWIND_TABLES="${R53_UNWIND_TABLES:-no}"

rustflags_for() {
  # +crt-static: one static binary that runs on any OpenWrt release. link-self-contained=no: zig
  # supplies crt and musl. immediate-abort: no panic message/unwind machinery. location-detail=none:
  # no source file names/line numbers in the binary.
  local f="-C target-feature=+crt-static -C link-self-contained=no -Z location-detail=$LOCATION_DETAIL"
  # fmt-debug=none: every {:?} prints nothing, so no Debug code is kept; the program prints no Debug
  # output (src/tls.rs words rustls' errors itself). force-unwind-tables=no: no .eh_frame for Rust
  # code (~100 KB on MIPS); with immediate-abort nothing ever unwinds.
  [ "$FMT_DEBUG" = full ] || f="$f -Z fmt-debug=$FMT_DEBUG"
  [ "$UNWIND_TABLES" = yes ] || f="$f -C force-unwind-tables=no"
  if [ "$PANIC" = immediate-abort ]; then f="$f -Z unstable-options -C panic=immediate-abort"; fi
  case "$1" in
    # static-pie on MIPS segfaults right after connect() under qemu: build a plain static executable.
    mips*) f="$f -C relocation-model=static" ;;
  esac
  echo "$f ${R53_EXTRA_RUSTFLAGS:-}"
}

# -Zfmt-debug=none would blank the HTTP version ureq-proto writes with {:?}: see the wrapper.
[ "$FMT_DEBUG" = none ] && export RUSTC_WRAPPER="$ROOT/scripts/rustc-fmt-debug.sh"

mkdir -p "$DIST"
say "rust: $("$RUSTC" --version) (RUSTC_BOOTSTRAP=1), zig $("$TOOLS/ziglang/zig" version), cargo-zigbuild $CARGO_ZIGBUILD_VERSION"
for t in "${targets[@]}"; do
  say "building $t"
  start=$(date +%s)
  std_crates=std,panic_abort
  args=(zigbuild --manifest-path "$MANIFEST" --release --locked --target "$t" --bin "$BIN"
        -Z "build-std=$std_crates")
  [ -n "$BUILD_STD_FEATURES" ] && args+=(-Z "build-std-features=$BUILD_STD_FEATURES")
  [ -n "${R53_FEATURES:-}" ] && args+=(--features "$R53_FEATURES")
  # ring's C code without unwind tables (nothing unwinds): ~3 KB of .eh_frame on mipsel.
  cflags_var="CFLAGS_${t//-/_}"
  export "$cflags_var=${!cflags_var:--fno-asynchronous-unwind-tables -fno-unwind-tables}"
  RUSTFLAGS="$(rustflags_for "$t")" cargo "${args[@]}" >&2
  out="$CARGO_TARGET_DIR/$t/release/$BIN"
  [ -f "$out" ] || die "no binary at $out"
  mkdir -p "$DIST/$t"
  # A private temporary name, then an atomic rename: another build running at the same time (or a
  # test running the previous binary) never sees a half-written file.
  tmp="$(mktemp "$DIST/$t/.$BIN.XXXXXX")"
  case "$t" in
    # LLVM writes a .pdr section (MIPS procedure descriptors, ~10 % of the file) that nothing reads at
    # run time and that the linker's strip keeps: drop it (the release profile already strips symbols).
    mips*) if [ "${R53_STRIP_PDR:-1}" = 1 ]; then objcopy -R .pdr -R .comment "$out" "$tmp"
           else cp "$out" "$tmp"; fi ;;
    *) cp "$out" "$tmp" ;;
  esac
  chmod 755 "$tmp"
  mv -f "$tmp" "$DIST/$t/$BIN"
  say "$t: $(stat -c %s "$DIST/$t/$BIN") bytes in $(( $(date +%s) - start )) s"
done

# Sizes table for every binary present in dist/bin (not only the ones built now).
{
  echo "| target | stripped (bytes) | xz -9e (bytes) |"
  echo "| --- | ---: | ---: |"
  for t in "${ALL_TARGETS[@]}"; do
    f="$DIST/$t/$BIN"
    [ -f "$f" ] || continue
    echo "| $t | $(stat -c %s "$f") | $(xz -9e -c "$f" | wc -c) |"
  done
} >"$DIST/SIZES.md"
cat "$DIST/SIZES.md" >&2
