#!/usr/bin/env bash
# Sourced by scripts/package.sh: the two package formats, each written from a staged tree.
#
#   make_ipk LABEL STAGEDIR WORKDIR   -> $OUT_DIR/<name>_<ver>_<label>.ipk (opkg, OpenWrt 24.10)
#   make_apk ARCH STAGEDIR WORKDIR    -> $OUT_DIR/<name>-<ver>_<arch>.apk (apk-tools v3, 25.12+)
#
# Both print the path they wrote. They read what package.sh has set: the fields
# (PKG_NAME VERSION DEPENDS LICENSE LICENSE_FILES SECTION URL MAINTAINER DESCRIPTION
# CONFFILES, optional POSTINST_PKG/PRERM_PKG), SOURCE_DATE_EPOCH, ROOT, OUT_DIR and die().
# Literal $... in single quotes is intended throughout (maintainer scripts).
# shellcheck disable=SC2016

tar_gz() { # dir output [names...]: OpenWrt's reproducible tar.gz
  local dir="$1" out="$2"; shift 2
  [ $# -gt 0 ] || set -- .
  tar -C "$dir" --format=gnu --numeric-owner --owner=0 --group=0 --sort=name \
    --mtime="@$SOURCE_DATE_EPOCH" -cf - "$@" | gzip -n -9 >"$out"
}

control_file() { # arch installed-size
  {
    echo "Package: $PKG_NAME"
    echo "Version: $VERSION"
    [ -z "$DEPENDS" ] || echo "Depends: $DEPENDS"
    echo "Source: openwrt/$PKG_NAME"
    echo "SourceName: $PKG_NAME"
    [ -z "$LICENSE" ] || echo "License: $LICENSE"
    [ -z "$LICENSE_FILES" ] || echo "LicenseFiles: $LICENSE_FILES"
    [ -z "$SECTION" ] || echo "Section: $SECTION"
    echo "SourceDateEpoch: $SOURCE_DATE_EPOCH"
    [ -z "$URL" ] || echo "URL: $URL"
    [ -z "$MAINTAINER" ] || echo "Maintainer: $MAINTAINER"
    echo "Architecture: $1"
    echo "Installed-Size: $2"
    printf 'Description: '
    printf '%s\n' "$DESCRIPTION" | sed -e 's,^[[:space:]]*, ,g'
  }
}

# The maintainer scripts exactly as include/package-pack.mk writes them.
POSTINST='#!/bin/sh
[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
default_postinst $0 $@'
PRERM='#!/bin/sh
[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0
. ${IPKG_INSTROOT}/lib/functions.sh
default_prerm $0 $@'

make_ipk() { # label stagedir workdir -> path
  local arch="$1" data="$2" work="$3" ctrl="$3/CONTROL" outer="$3/outer" size f
  mkdir -p "$ctrl" "$outer"
  chmod 0755 "$ctrl" "$outer"
  tar_gz "$data" "$outer/data.tar.gz"
  size="$(zcat "$outer/data.tar.gz" | wc -c)"
  control_file "$arch" "$size" >"$ctrl/control"
  printf '%s\n' "$POSTINST" >"$ctrl/postinst"
  printf '%s\n' "$PRERM" >"$ctrl/prerm"
  if [ -n "${POSTINST_PKG:-}" ]; then
    printf '%s\n' "$POSTINST_PKG" >"$ctrl/postinst-pkg"
    chmod 0755 "$ctrl/postinst-pkg"
  fi
  if [ -n "${PRERM_PKG:-}" ]; then
    printf '%s\n' "$PRERM_PKG" >"$ctrl/prerm-pkg"
    chmod 0755 "$ctrl/prerm-pkg"
  fi
  # conffiles resolved against the package, sorted (as ipkg-build does)
  for f in $CONFFILES; do [ -f "$data$f" ] && echo "$f"; done | LC_ALL=C sort >"$ctrl/conffiles"
  [ -s "$ctrl/conffiles" ] || rm -f "$ctrl/conffiles"
  chmod 0644 "$ctrl/control" "$ctrl"/conffiles 2>/dev/null || true
  chmod 0755 "$ctrl/postinst" "$ctrl/prerm"
  tar_gz "$ctrl" "$outer/control.tar.gz"
  echo "2.0" >"$outer/debian-binary"
  local pkg="$OUT_DIR/${PKG_NAME}_${VERSION}_${arch}.ipk"
  tar_gz "$outer" "$pkg" ./debian-binary ./data.tar.gz ./control.tar.gz
  echo "$pkg"
}

make_apk() { # arch stagedir workdir -> path (the apk v3 package, written by scripts/apkv3.py)
  local arch="$1" data="$2" work="$3/apk" f meta
  mkdir -p "$work"
  meta="$data/lib/apk/packages"
  mkdir -p "$meta"
  # Metadata files that the SDK puts in the payload (include/package-pack.mk, USE_APK).
  (cd "$data" && find . \( -type f -o -type l \) -printf '/%P\n' | LC_ALL=C sort) >"$work/list"
  if [ -n "$CONFFILES" ]; then
    : >"$meta/$PKG_NAME.conffiles"
    for f in $CONFFILES; do echo "$f" >>"$meta/$PKG_NAME.conffiles"; done
    for f in $CONFFILES; do
      [ -f "$data$f" ] || continue
      echo "$f $(sha256sum "$data$f" | cut -d' ' -f1)" >>"$meta/$PKG_NAME.conffiles_static"
    done
  fi
  mv "$work/list" "$meta/$PKG_NAME.list"
  chmod 0644 "$meta"/*
  {
    echo '#!/bin/sh'
    echo '[ "${IPKG_NO_SCRIPT}" = "1" ] && exit 0'
    echo '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0'
    echo '. ${IPKG_INSTROOT}/lib/functions.sh'
    echo 'export root="${IPKG_INSTROOT}"'
    echo "export pkgname=\"$PKG_NAME\""
    echo 'add_group_and_user'
    echo 'default_postinst'
    [ -z "${POSTINST_PKG:-}" ] || printf '%s\n' "$POSTINST_PKG"
  } >"$work/post-install"
  { echo '#!/bin/sh'; echo 'export PKG_UPGRADE=1'; sed '1d' "$work/post-install"; } >"$work/post-upgrade"
  {
    echo '#!/bin/sh'
    echo '[ -s ${IPKG_INSTROOT}/lib/functions.sh ] || exit 0'
    echo '. ${IPKG_INSTROOT}/lib/functions.sh'
    echo 'export root="${IPKG_INSTROOT}"'
    echo "export pkgname=\"$PKG_NAME\""
    echo 'default_prerm'
    [ -z "${PRERM_PKG:-}" ] || printf '%s\n' "$PRERM_PKG" | sed '/^[[:space:]]*#!/d'
  } >"$work/pre-deinstall"
  local pkg="$OUT_DIR/${PKG_NAME}-${VERSION}_${arch}.apk" desc
  desc="$(printf '%s\n' "$DESCRIPTION" | sed -e 's,^[[:space:]]*,,' | paste -sd' ' -)"
  python3 "$ROOT/scripts/apkv3.py" \
    --info "name:$PKG_NAME" \
    --info "version:$VERSION" \
    --info "description:$desc" \
    --info "arch:$arch" \
    --info "license:$LICENSE" \
    --info "origin:openwrt/$PKG_NAME" \
    --info "url:$URL" \
    --info "maintainer:$MAINTAINER" \
    --info "depends:$(echo "$DEPENDS" | tr -d ',')" \
    --script "post-install:$work/post-install" \
    --script "post-upgrade:$work/post-upgrade" \
    --script "pre-deinstall:$work/pre-deinstall" \
    --files "$data" --mtime "$SOURCE_DATE_EPOCH" --output "$pkg" >&2 || die "apkv3.py failed for $arch"
  echo "$pkg"
}
