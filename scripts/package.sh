#!/usr/bin/env bash
# Packs the static router binaries into OpenWrt packages, one per OpenWrt architecture,
# without the OpenWrt SDK:
#
#   scripts/build-static.sh                      # dist/bin/<rust-target>/route53-ddns
#   scripts/package.sh                           # dist/packages/route53-ddns_<ver>_<arch>.ipk
#                                                #   and route53-ddns-<ver>_<arch>.apk
#   scripts/package.sh --arch mipsel_24kc,x86_64 --bin-dir dist/bin --out dist/packages
#   scripts/package.sh --arch mipsel_74kc=mipsel-unknown-linux-musl   # any label, explicit target
#
# The package is what the SDK would make from openwrt/route53-ddns/Makefile: this script reads
# the Makefile (version, fields, description, conffiles, and the install section, which it
# interprets line by line), so the two cannot drift apart. The .ipk format is OpenWrt's
# (scripts/ipkg-build): a gzip'd tar of ./debian-binary ./data.tar.gz ./control.tar.gz, files
# owned by 0:0, sorted, mtime SOURCE_DATE_EPOCH, gzip -n: the same inputs give the same bytes.
# postinst/prerm are the ones OpenWrt's build generates (default_postinst/default_prerm); the
# Makefile's Package/<name>/prerm body becomes prerm-pkg (.ipk) or ends pre-deinstall (.apk).
#
# A static musl binary does not depend on the CPU's floating point ABI or on the image's libc,
# so one binary serves every OpenWrt architecture label its instruction set runs on (table
# below; docs in openwrt/README.md). Without --arch: every default label whose binary exists.
#
# apk (OpenWrt 25.12+): the same tree as an apk-tools v3 package, written by scripts/apkv3.py
# (no apk-tools needed here), with the fields, scripts and lib/apk/packages/ metadata the
# SDK's include/package-pack.mk gives it; see docs/building.md.
#
# Options:
#   --bin-dir DIR     where <rust-target>/route53-ddns are (default: dist/bin)
#   --arch LIST       comma/space separated labels, each LABEL or LABEL=RUST_TARGET
#   --out DIR         output directory (default: dist/packages)
#   --no-apk          make no .apk files
#   --luci            make only the LuCI page's packages, luci-app-route53-ddns_<ver>_all.ipk
#                     and luci-app-route53-ddns-<ver>_noarch.apk (for every architecture;
#                     version and fields from its own Makefile; unminified JS and no
#                     translation packages, else as luci.mk)
# Environment: SOURCE_DATE_EPOCH (default: time of the last git commit).
# Literal $... in single quotes is intended throughout (make syntax, maintainer scripts).
# shellcheck disable=SC2016
set -euo pipefail

# Modes in the packages must not depend on the caller's umask (a 0700 "./" entry would
# make opkg tighten / on the router).
umask 022

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PKGDIR="$ROOT/openwrt/route53-ddns"
MAKEFILE="$PKGDIR/Makefile"
BIN_DIR="$ROOT/dist/bin"
OUT_DIR="$ROOT/dist/packages"
ARCH_ARGS=()
NO_APK=0
LUCI=0

die() { printf 'package.sh: %s\n' "$*" >&2; exit 1; }
say() { printf '==> %s\n' "$*" >&2; }

# OpenWrt architecture label -> Rust target of the static binary that runs there.
# A label is what include/target.mk makes of a target: ARCH_PACKAGES when the target sets
# it, else $(ARCH)_$(CPU_TYPE)[_$(CPU_SUBTYPE)]; aarch64 defaults CPU_TYPE to "generic",
# x86_64 has none. Each label below is named with the openwrt/openwrt target file(s) that
# produce it (read in that repository's public tree, late 2026).
#  * mips(el)-unknown-linux-musl: MIPS32r2, soft-float -> 24Kc, 74Kc, 1004Kc cores.
#  * armv7-unknown-linux-musleabihf: ARMv7-A with VFPv3-D16 -> every Cortex-A label with an
#    FPU (labels without one, e.g. plain arm_cortex-a9, and ARMv5/v6 labels are not covered).
#  * aarch64-unknown-linux-musl: ARMv8.0-A baseline -> every aarch64 label.
KNOWN_ARCHES=(
  x86_64=x86_64-unknown-linux-musl                          # x86/64 (ARCH:=x86_64, no CPU_TYPE)
  aarch64_generic=aarch64-unknown-linux-musl                # rockchip/armv8 (no CPU_TYPE: include/target.mk's aarch64 default)
  aarch64_cortex-a53=aarch64-unknown-linux-musl             # mediatek/filogic
  aarch64_cortex-a72=aarch64-unknown-linux-musl             # bcm27xx/bcm2711, mvebu/cortexa72
  aarch64_cortex-a76=aarch64-unknown-linux-musl             # bcm27xx/bcm2712
  arm_cortex-a7_neon-vfpv4=armv7-unknown-linux-musleabihf   # ipq40xx
  arm_cortex-a7_vfpv4=armv7-unknown-linux-musleabihf        # at91/sama7
  arm_cortex-a8_vfpv3=armv7-unknown-linux-musleabihf        # sunxi/cortexa8
  arm_cortex-a9_vfpv3-d16=armv7-unknown-linux-musleabihf    # mvebu/cortexa9, tegra
  arm_cortex-a9_neon=armv7-unknown-linux-musleabihf         # imx/cortexa9
  arm_cortex-a15_neon-vfpv4=armv7-unknown-linux-musleabihf  # ipq806x, armsr/armv7
  arm_cortex-a5_vfpv4=armv7-unknown-linux-musleabihf        # at91/sama5
  mipsel_24kc=mipsel-unknown-linux-musl                     # ramips/mt7621
  mipsel_74kc=mipsel-unknown-linux-musl                     # ramips/rt3883
  mips_24kc=mips-unknown-linux-musl                         # ath79
)
# Not here: mipsel_1004kc, which no target produces (the MT7621 has 1004Kc cores, but
# ramips/mt7621 sets CPU_TYPE:=24kc), and mips_74kc, for which no current target was found.
# Made without --arch (when the binary is there): the common router architectures.
DEFAULT_ARCHES=(
  mipsel_24kc mips_24kc
  arm_cortex-a7_neon-vfpv4 arm_cortex-a9_vfpv3-d16 arm_cortex-a15_neon-vfpv4
  aarch64_generic aarch64_cortex-a53 aarch64_cortex-a72
  x86_64
)

while [ $# -gt 0 ]; do
  case "$1" in
    --bin-dir) BIN_DIR="${2:?--bin-dir needs a directory}"; shift 2 ;;
    --bin-dir=*) BIN_DIR="${1#*=}"; shift ;;
    --arch) ARCH_ARGS+=("${2:?--arch needs a list}"); shift 2 ;;
    --arch=*) ARCH_ARGS+=("${1#*=}"); shift ;;
    --out) OUT_DIR="${2:?--out needs a directory}"; shift 2 ;;
    --out=*) OUT_DIR="${1#*=}"; shift ;;
    --no-apk) NO_APK=1; shift ;;
    --luci) LUCI=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ {sub(/^# ?/, ""); print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

known_target() { # label -> rust target, or nothing
  local e
  for e in "${KNOWN_ARCHES[@]}"; do
    [ "${e%%=*}" = "$1" ] && { echo "${e#*=}"; return 0; }
  done
  return 1
}

# ---- the arch list: "label target" pairs
pairs=()
explicit=0
if [ ${#ARCH_ARGS[@]} -gt 0 ]; then
  explicit=1
  for spec in $(printf '%s\n' "${ARCH_ARGS[@]}" | tr ',' ' '); do
    if [ "${spec#*=}" != "$spec" ]; then
      label="${spec%%=*}"; target="${spec#*=}"
    else
      label="$spec"
      target="$(known_target "$label")" ||
        die "unknown architecture '$label': give it as $label=<rust-target> (known: $(printf '%s ' "${KNOWN_ARCHES[@]%%=*}"))"
    fi
    [[ "$label" =~ ^[A-Za-z0-9_.+-]+$ ]] || die "bad architecture label '$label'"
    [[ "$target" =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad rust target '$target'"
    pairs+=("$label $target")
  done
else
  for label in "${DEFAULT_ARCHES[@]}"; do
    pairs+=("$label $(known_target "$label")")
  done
fi

# ---- what the Makefile says
mk_var() { # NAME -> value of "NAME:=value" (leading blanks allowed)
  sed -n "s/^[[:space:]]*$1:=[[:space:]]*//p" "$MAKEFILE" | head -n 1
}
mk_block() { # define NAME ... endef -> body
  awk -v name="$1" '$0 == "define " name {on=1; next} on && $0 == "endef" {exit} on {print}' "$MAKEFILE"
}
PKG_NAME="$(mk_var PKG_NAME)"
PKG_VERSION="$(mk_var PKG_VERSION)"
PKG_RELEASE="$(mk_var PKG_RELEASE)"
if [ -z "$PKG_NAME" ] || [ -z "$PKG_VERSION" ] || [ -z "$PKG_RELEASE" ]; then
  die "no PKG_NAME/PKG_VERSION/PKG_RELEASE in $MAKEFILE"
fi
VERSION="$PKG_VERSION-r$PKG_RELEASE"
LICENSE="$(mk_var PKG_LICENSE)"
LICENSE_FILES="$(mk_var PKG_LICENSE_FILES)"
MAINTAINER="$(mk_var PKG_MAINTAINER)"
SECTION="$(mk_var SECTION)"
URL="$(mk_var URL)"
# DEPENDS: keep the +package entries (the @conditions and $(variables) are build-time only).
DEPENDS="$(mk_var DEPENDS | tr ' ' '\n' | sed -n 's/^+//p' | paste -sd, - | sed 's/,/, /g')"
DESCRIPTION="$(mk_block "Package/$PKG_NAME/description")"
CONFFILES="$(mk_block "Package/$PKG_NAME/conffiles")"
INSTALL="$(mk_block "Package/$PKG_NAME/install")"
# The prerm body as make gives it (`$$` -> `$`; a lone `$` would be a make variable).
PRERM_PKG="$(mk_block "Package/$PKG_NAME/prerm")"
[ -z "$(printf '%s' "$PRERM_PKG" | sed 's/\$\$//g' | tr -cd '$')" ] || die "a lone \$ in Package/$PKG_NAME/prerm"
PRERM_PKG="${PRERM_PKG//\$\$/\$}"
if [ -z "$DESCRIPTION" ] || [ -z "$INSTALL" ]; then die "no description or install section in $MAKEFILE"; fi

cargo_version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version[[:space:]]*=[[:space:]]*"\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n 1)"
[ -z "$cargo_version" ] || [ "$cargo_version" = "$PKG_VERSION" ] ||
  die "PKG_VERSION $PKG_VERSION in $MAKEFILE differs from the Cargo.toml version $cargo_version"

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH="$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || date +%s)"
fi
[[ "$SOURCE_DATE_EPOCH" =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH must be a number"
export SOURCE_DATE_EPOCH

# ---- the ELF check: the right machine, statically linked
elf_machine() { # file -> "class endian machine" from the ELF header
  local h
  h="$(od -An -tx1 -N20 -v "$1" | tr -s ' \n' ' ')"
  # shellcheck disable=SC2086 # split the hex bytes into $1..$20
  set -- $h
  [ "$1 $2 $3 $4" = "7f 45 4c 46" ] || { echo none; return; }
  local class="$5" data="$6" m
  if [ "$data" = 01 ]; then m="${20}${19}"; else m="${19}${20}"; fi
  echo "$class $data $m"
}
expect_machine() { # rust target -> expected "class endian machine"
  case "$1" in
    x86_64-*) echo "02 01 003e" ;;
    aarch64-*) echo "02 01 00b7" ;;
    arm*|thumb*) echo "01 01 0028" ;;
    mipsel-*) echo "01 01 0008" ;;
    mips-*) echo "01 02 0008" ;;
    *) echo "" ;;
  esac
}
check_binary() { # file target
  local got want
  got="$(elf_machine "$1")"
  want="$(expect_machine "$2")"
  [ -z "$want" ] || [ "$got" = "$want" ] || die "$1 is not an ELF executable for $2 (header: $got)"
  if command -v file >/dev/null; then
    file -b "$1" | grep -Eq 'statically linked|static-pie linked' || die "$1 is not statically linked: $(file -b "$1")"
  elif grep -aq 'ld-musl\|ld-linux' "$1"; then
    die "$1 names a dynamic loader: not a static build"
  fi
}

# ---- staging: run the Makefile's install section into a directory
stage() { # destdir binary
  local dest="$1" bin="$2" line cmd a b mode
  mkdir -p "$dest"
  chmod 0755 "$dest"
  while IFS= read -r line; do
    line="${line#"${line%%[![:space:]]*}"}"
    [ -n "$line" ] || continue
    read -r cmd a b <<<"$line"
    a="${a//\$(1)/$dest}"; b="${b//\$(1)/$dest}"
    a="${a//\$(PKG_INSTALL_DIR)\/bin\/route53-ddns/$bin}"
    case "$a" in ./*) a="$PKGDIR/${a#./}" ;; esac
    case "$cmd" in
      '$(INSTALL_DIR)') install -d -m0755 "$a" ;;
      '$(INSTALL_BIN)') install -m0755 "$a" "$b" ;;
      '$(INSTALL_CONF)') install -m0600 "$a" "$b" ;;
      '$(INSTALL_DATA)') install -m0644 "$a" "$b" ;;
      chmod) mode="$a"; [[ "$mode" =~ ^[0-7]{3,4}$ ]] || die "bad mode in: $line"; chmod "$mode" "${b}" ;;
      *) die "install line not understood (extend scripts/package.sh): $line" ;;
    esac
  done <<<"$INSTALL"
  # As include/package-pack.mk does: conffiles that are not in the package (the key, made
  # on the router) are listed in keep.d so that sysupgrade keeps them.
  local keep=() f
  for f in $CONFFILES; do [ -f "$dest$f" ] || keep+=("$f"); done
  if [ ${#keep[@]} -gt 0 ]; then
    mkdir -p "$dest/lib/upgrade/keep.d"
    printf '%s\n' "${keep[@]}" >>"$dest/lib/upgrade/keep.d/$PKG_NAME"
  fi
}

# ---- the package formats: make_ipk, make_apk (and the tar/control/scripts they share)
# shellcheck source=scripts/package-formats.sh
. "$ROOT/scripts/package-formats.sh"

mkdir -p "$OUT_DIR"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# ---- the LuCI page: what luci.mk packs (htdocs/ -> /www, root/ -> /), for every CPU:
# architecture "all" for opkg, "noarch" for apk. Version, URL and maintainer are the page's
# own (its Makefile, the variables luci.mk reads), not the binary package's.
if [ "$LUCI" = 1 ]; then
  LUCI_DIR="$ROOT/openwrt/luci-app-route53-ddns"
  LUCI_MK="$LUCI_DIR/Makefile"
  luci_var() { sed -n "s/^$1:=[[:space:]]*//p" "$LUCI_MK" | head -n 1; }
  PKG_NAME="luci-app-route53-ddns"
  if [ -z "$(luci_var PKG_VERSION)" ] || [ -z "$(luci_var PKG_RELEASE)" ]; then die "no PKG_VERSION/PKG_RELEASE in $LUCI_MK"; fi
  VERSION="$(luci_var PKG_VERSION)-r$(luci_var PKG_RELEASE)"
  URL="$(luci_var LUCI_URL)"
  DEPENDS="$(luci_var LUCI_DEPENDS | tr ' ' '\n' | sed -n 's/^+//p' | paste -sd, - | sed 's/,/, /g')"
  MAINTAINER="$(luci_var LUCI_MAINTAINER)"
  LICENSE="$(luci_var PKG_LICENSE)"
  LICENSE_FILES=""
  SECTION="luci"
  DESCRIPTION="$(awk '/^LUCI_DESCRIPTION:=/ {sub(/^LUCI_DESCRIPTION:=/, ""); on=1}
    on {l=$0; sub(/^[ \t]+/, "", l); c=sub(/[ \t]*\\$/, "", l); print l; if (!c) exit}' "$LUCI_MK")"
  CONFFILES=""
  PRERM_PKG=""
  # luci.mk's postinst on a live system: drop LuCI's caches, let rpcd load the ACL and plugin.
  POSTINST_PKG='[ -n "${IPKG_INSTROOT}" ] || {
	rm -f /tmp/luci-indexcache.*
	rm -rf /tmp/luci-modulecache/
	/etc/init.d/rpcd reload 2>/dev/null
	exit 0
}'
  data="$WORK/luci/data"
  install -d -m0755 "$data" "$data/www"
  cp -R "$LUCI_DIR/htdocs/." "$data/www/"
  cp -R "$LUCI_DIR/root/." "$data/"
  find "$data" -type d -exec chmod 0755 {} +
  find "$data" -type f -exec chmod 0644 {} +
  made=("$(make_ipk all "$data" "$WORK/luci")")
  [ "$NO_APK" = 1 ] || made+=("$(make_apk noarch "$data" "$WORK/luci")")
  for pkg in "${made[@]}"; do printf '%s\t%s bytes\n' "${pkg#"$ROOT"/}" "$(wc -c <"$pkg")"; done
  exit 0
fi

made=()
for pair in "${pairs[@]}"; do
  label="${pair%% *}"; target="${pair#* }"
  bin="$BIN_DIR/$target/route53-ddns"
  if [ ! -f "$bin" ]; then
    [ "$explicit" = 1 ] && die "no binary for $label: $bin (run scripts/build-static.sh first)"
    say "skipping $label: no $bin"
    continue
  fi
  check_binary "$bin" "$target"
  say "$label <- $target"
  rm -rf "${WORK:?}/$label"
  stage "$WORK/$label/data" "$bin"
  made+=("$(make_ipk "$label" "$WORK/$label/data" "$WORK/$label")")
  if [ "$NO_APK" = 0 ]; then
    made+=("$(make_apk "$label" "$WORK/$label/data" "$WORK/$label")")
  fi
done
[ ${#made[@]} -gt 0 ] || die "no binaries found under $BIN_DIR (run scripts/build-static.sh first)"

(cd "$OUT_DIR" && sha256sum "${made[@]##*/}" >"SHA256SUMS.tmp" && mv SHA256SUMS.tmp SHA256SUMS)
for p in "${made[@]}"; do
  printf '%s\t%s bytes\n' "${p#"$ROOT"/}" "$(wc -c <"$p")"
done
