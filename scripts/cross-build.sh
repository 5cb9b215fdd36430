#!/usr/bin/env bash
# Builds the static, stripped router binary with `cross` (cross-rs) and podman, in a local image:
# the design's build route, with the same compiler, linker and flags as scripts/build-static.sh.
#
#   scripts/cross-build.sh                  # all five targets
#   scripts/cross-build.sh mipsel armv7     # a subset (short names, OpenWrt arch names or triples)
#
# Output: dist/cross/<rust-target>/route53-ddns and dist/cross/SIZES.md. On a fresh Debian machine,
# as root, it installs what it needs (pinned): podman, runc, debootstrap (Debian), cross (crates.io),
# the Rust toolchain cross uses (rustup), and builds its image without any image registry:
# debootstrap -> `podman import` -> scripts/cross/Containerfile (zig + cargo-zigbuild from PyPI).
# What it changes on the machine, and how the toolchain is pinned: docs/building.md.
#
# Environment (all optional):
#   R53_BUILD_DIR         build directory (default: <repo>/build)
#   R53_DIST_DIR          output directory (default: <repo>/dist/cross)
#   R53_CROSS_TOOLCHAIN   the rustup toolchain cross uses (default: 1.95.0, the release's)
#   R53_DEBIAN_MIRROR     mirror for debootstrap (default: the machine's apt source, else deb.debian.org)
#   R53_HOST_CA           CA bundle pip trusts inside the image build (default: the host's system bundle)
#   R53_NO_INSTALL=1      never install anything; fail if a tool or an image is missing
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${R53_BUILD_DIR:-$ROOT/build}"
DIST="${R53_DIST_DIR:-$ROOT/dist/cross}"
BIN=route53-ddns

CROSS_VERSION=0.2.5
TOOLCHAIN="${R53_CROSS_TOOLCHAIN:-1.95.0}"
# zig and cargo-zigbuild: the very pins of the zig route, read from its script.
pin() { sed -n "s/^$1=\([0-9.]*\)$/\1/p" "$ROOT/scripts/build-static.sh"; }
ZIGLANG_VERSION="$(pin ZIGLANG_VERSION)"
CARGO_ZIGBUILD_VERSION="$(pin CARGO_ZIGBUILD_VERSION)"
BASE_IMAGE=localhost/route53-ddns-debian:bookworm
# The build image, as Cross.toml names it for every target (one image: zig links all five).
IMAGE=localhost/route53-ddns-cross:zig

ALL_TARGETS=(
  mipsel-unknown-linux-musl
  mips-unknown-linux-musl
  armv7-unknown-linux-musleabihf
  aarch64-unknown-linux-musl
  x86_64-unknown-linux-musl
)

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'cross-build: %s\n' "$*" >&2; exit 1; }
if [ -z "$ZIGLANG_VERSION" ] || [ -z "$CARGO_ZIGBUILD_VERSION" ]; then die "no zig pins in scripts/build-static.sh"; fi
[ "$(id -u)" = 0 ] || die "run as root (rootful podman; apt installs)"

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

step_start=$(date +%s)
step() { local now; now=$(date +%s); say "$1 ($(( now - step_start )) s)"; step_start=$now; }

apt_install() {
  [ "${R53_NO_INSTALL:-}" = 1 ] && die "missing: $* (R53_NO_INSTALL=1)"
  say "apt: installing $*"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- Debian packages. runc, not crun: crun fails here ("cgroups in hybrid mode not supported").
need=()
command -v podman >/dev/null || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v xz >/dev/null || need+=(xz-utils)
objcopy_knows_mips() { local info; info="$(objcopy --info 2>/dev/null || true)"; [[ "$info" == *mips* ]]; }
if [[ " ${targets[*]} " == *" mips"* ]] && ! objcopy_knows_mips; then need+=(binutils-multiarch); fi
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"

# --- The Rust toolchain cross uses, pinned. cross (0.2.5) asks rustup for the toolchain it is given
# and would install or update it itself; here it is given an exact version, installed (if missing)
# by this script, and CROSS_CUSTOM_TOOLCHAIN=1 below stops cross from adding targets or components.
# The host's default toolchain (`stable`, …) is never touched.
command -v rustup >/dev/null || die "cross needs rustup (https://rustup.rs); none in PATH"
if ! rustup toolchain list | grep -q "^$TOOLCHAIN-"; then
  [ "${R53_NO_INSTALL:-}" = 1 ] && die "missing rustup toolchain $TOOLCHAIN (R53_NO_INSTALL=1)"
  say "rustup: installing toolchain $TOOLCHAIN (minimal, rust-src) for cross"
  rustup toolchain install "$TOOLCHAIN" --profile minimal --component rust-src >&2
fi
SYSROOT="$(rustup run "$TOOLCHAIN" rustc --print sysroot)"
if [ ! -f "$SYSROOT/lib/rustlib/src/rust/library/Cargo.lock" ]; then
  [ "${R53_NO_INSTALL:-}" = 1 ] && die "missing rust-src for $TOOLCHAIN (R53_NO_INSTALL=1)"
  say "rustup: adding rust-src to $TOOLCHAIN (std is built from source, -Zbuild-std)"
  rustup component add --toolchain "$TOOLCHAIN" rust-src >&2
fi
export RUSTUP_TOOLCHAIN="$TOOLCHAIN"   # cross's own rustc/cargo metadata calls use it too
# cross 0.2.5 misreads rustup 1.28+'s toolchain list and would `rustup toolchain add` the toolchain
# in use: cross sees rustup through scripts/cross/rustup-guard.sh, which fixes the list and refuses
# every install or update.
R53_REAL_RUSTUP="$(command -v rustup)"
export R53_REAL_RUSTUP
mkdir -p "$BUILD/cross/bin"
ln -sf "$ROOT/scripts/cross/rustup-guard.sh" "$BUILD/cross/bin/rustup"
[ "$(PATH="$BUILD/cross/bin:$PATH" command -v rustup)" = "$BUILD/cross/bin/rustup" ] || die "rustup guard not first in PATH"
# What every installed toolchain is before the build: checked again after it.
toolchains_now() { "$R53_REAL_RUSTUP" toolchain list | sed -E 's/ \(.*//' | while read -r tc; do
  echo "$tc $("$R53_REAL_RUSTUP" run "$tc" rustc --version 2>/dev/null)"; done; }
toolchains_before="$(toolchains_now)"

# --- cross itself, from crates.io, pinned, inside the build directory.
CROSS_ROOT="$BUILD/tools/cross-$CROSS_VERSION"
if [ ! -x "$CROSS_ROOT/bin/cross" ]; then
  [ "${R53_NO_INSTALL:-}" = 1 ] && die "missing cross in $CROSS_ROOT (R53_NO_INSTALL=1)"
  say "cargo install cross $CROSS_VERSION -> $CROSS_ROOT"
  cargo install -q cross --version "$CROSS_VERSION" --locked --root "$CROSS_ROOT" >&2
fi
step "tools ready: $("$CROSS_ROOT/bin/cross" --version 2>/dev/null | head -1), $(podman --version), toolchain $TOOLCHAIN"

# --- podman configuration, for this script's podman and cross calls only: CONTAINERS_CONF names a
# file of ours, so nothing under /etc is written and (podman 4.3 reads only that file when it is
# set) a user's own containers.conf neither applies to nor is changed by this build.
mkdir -p "$BUILD/cross"
export CONTAINERS_CONF="$BUILD/cross/containers.conf"
# Limits the container may set: the hard limits, and for nproc at most pid_max (here runc's setrlimit
# was refused above 32768 = pid_max although `ulimit -Hu` said 96363).
min() { if [ "$1" = unlimited ] || { [ "$2" != unlimited ] && [ "$2" -lt "$1" ]; }; then echo "$2"; else echo "$1"; fi; }
nofile="$(min "$(ulimit -Hn)" "$(cat /proc/sys/fs/nr_open 2>/dev/null || echo 1048576)")"
nproc="$(min "$(ulimit -Hu)" "$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo 32768)")"
cat >"$CONTAINERS_CONF.tmp" <<EOF
# Written by scripts/cross-build.sh; used only through CONTAINERS_CONF by that script.
[containers]
# Within this machine's hard limits (podman's defaults are above them here: "setrlimit
# RLIMIT_NOFILE / RLIMIT_NPROC: Operation not permitted").
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
# crun fails on this cgroup setup ("cgroups in hybrid mode not supported").
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
mv -f "$CONTAINERS_CONF.tmp" "$CONTAINERS_CONF"

# --- The base image: Debian bookworm from Debian's package archive, no image registry.
if ! podman image exists "$BASE_IMAGE"; then
  [ "${R53_NO_INSTALL:-}" = 1 ] && die "missing image $BASE_IMAGE (R53_NO_INSTALL=1)"
  mirror="${R53_DEBIAN_MIRROR:-}"
  if [ -z "$mirror" ]; then
    mirror="$(sed -n 's|^URIs: *\(http[^ ]*/debian\)/*$|\1|p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)"
    mirror="${mirror:-http://deb.debian.org/debian}"
  fi
  rootfs="$BUILD/cross/rootfs"
  rm -rf "$rootfs"
  say "debootstrap --variant=minbase bookworm ($mirror) -> $BASE_IMAGE"
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$BUILD/cross/debootstrap.log" 2>&1 \
    || die "debootstrap failed, see $BUILD/cross/debootstrap.log"
  tar -C "$rootfs" -c . | podman import - "$BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
  step "base image $BASE_IMAGE"
fi

# --- The build image (zig family: one image for all five targets), rebuilt when its recipe changes.
recipe_hash="$(cat "$ROOT/scripts/cross/Containerfile" "$ROOT/scripts/cross/zig-wrappers.sh" \
  <(echo "$BASE_IMAGE $ZIGLANG_VERSION $CARGO_ZIGBUILD_VERSION") | sha256sum | cut -c1-16)"
have_hash="$(podman image inspect --format '{{ index .Labels "route53-ddns.recipe" }}' "$IMAGE" 2>/dev/null || true)"
if [ "$have_hash" != "$recipe_hash" ]; then
  [ "${R53_NO_INSTALL:-}" = 1 ] && die "image $IMAGE missing or stale (R53_NO_INSTALL=1)"
  say "podman build $IMAGE (zig $ZIGLANG_VERSION, cargo-zigbuild $CARGO_ZIGBUILD_VERSION)"
  # podman build does not take default_ulimits from containers.conf: the same limits, as flags.
  ca=()
  host_ca="${R53_HOST_CA:-/etc/ssl/certs/ca-certificates.crt}"
  [ -f "$host_ca" ] && ca=(-v "$host_ca:/run/host-ca.crt:ro" --build-arg HOST_CA=/run/host-ca.crt)
  podman build -q --network host "${ca[@]}" --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc" \
    --label "route53-ddns.recipe=$recipe_hash" \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "ZIGLANG_VERSION=$ZIGLANG_VERSION" \
    --build-arg "CARGO_ZIGBUILD_VERSION=$CARGO_ZIGBUILD_VERSION" \
    -t "$IMAGE" -f "$ROOT/scripts/cross/Containerfile" "$ROOT/scripts/cross" >/dev/null
  step "build image $IMAGE"
fi
grep -q "image = \"$IMAGE\"" "$ROOT/Cross.toml" || die "Cross.toml does not name $IMAGE"

# --- The flags of scripts/build-static.sh (its defaults; see docs/building.md for each one's why).
rustflags_for() {
  local f="-C target-feature=+crt-static -C link-self-contained=no -Z location-detail=none"
  f="$f -Z fmt-debug=none -C force-unwind-tables=no -Z unstable-options -C panic=immediate-abort"
  case "$1" in mips*) f="$f -C relocation-model=static" ;; esac
  echo "$f"
}

export CROSS_CONTAINER_ENGINE=podman
export CROSS_CUSTOM_TOOLCHAIN=1      # cross adds no target/component with rustup (see above)
# The container needs no network: the crates (the project's and std's) are fetched on the host first.
export CROSS_CONTAINER_OPTS="--network none"
export CARGO_NET_OFFLINE=true        # cross passes CARGO_* into the container
export RUSTC_BOOTSTRAP=1             # -Zbuild-std and the -Z flags on a stable toolchain
export CARGO_TARGET_DIR="$BUILD/cross-target"   # cross mounts it at /target
unset CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS
mkdir -p "$DIST" "$CARGO_TARGET_DIR"
CARGO_NET_OFFLINE=false cargo fetch --locked --manifest-path "$ROOT/Cargo.toml" >&2
CARGO_NET_OFFLINE=false cargo fetch --locked --manifest-path "$SYSROOT/lib/rustlib/src/rust/library/Cargo.toml" \
  >/dev/null 2>&1 || die "cargo fetch of std's crates (for -Zbuild-std) failed"
for t in "${targets[@]}"; do
  say "cross build $t"
  start=$(date +%s)
  PATH="$BUILD/cross/bin:$PATH" RUSTFLAGS="$(rustflags_for "$t")" nice -n "${R53_NICE:-10}" "$CROSS_ROOT/bin/cross" "+$TOOLCHAIN" \
    build --release --locked --target "$t" --bin "$BIN" -p "$BIN" \
    -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size >&2
  out="$CARGO_TARGET_DIR/$t/release/$BIN"
  [ -f "$out" ] || die "no binary at $out"
  mkdir -p "$DIST/$t"
  tmp="$(mktemp "$DIST/$t/.$BIN.XXXXXX")"
  case "$t" in
    # As scripts/build-static.sh: drop the MIPS .pdr section the linker's strip keeps.
    mips*) objcopy -R .pdr -R .comment "$out" "$tmp" ;;
    *) cp "$out" "$tmp" ;;
  esac
  chmod 755 "$tmp"
  mv -f "$tmp" "$DIST/$t/$BIN"
  say "$t: $(stat -c %s "$DIST/$t/$BIN") bytes in $(( $(date +%s) - start )) s"
done

[ "$(toolchains_now)" = "$toolchains_before" ] \
  || die "a rustup toolchain changed during the build: before: $toolchains_before; now: $(toolchains_now)"

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
