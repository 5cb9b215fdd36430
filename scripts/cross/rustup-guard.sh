#!/bin/sh
# `rustup` as cross (0.2.5) sees it, put first in cross's PATH by scripts/cross-build.sh.
#
# cross parses `rustup toolchain list` as rustup <= 1.27 wrote it ("name (default)"). rustup 1.28+
# writes "name (active, default)" or "name (active)", so cross takes the toolchain in use for missing
# and runs `rustup toolchain add <it>`: on `stable` that updates stable to the newest release behind
# the user's back (seen on this project's machine). This guard gives cross the plain names, and
# refuses anything that would install or change a toolchain: the script installs the pinned one.
# R53_REAL_RUSTUP is the real rustup.
set -eu
real="${R53_REAL_RUSTUP:?}"
words=""
for a in "$@"; do
  case "$a" in -*) ;; *) words="$words $a" ;; esac
done
case "$words" in
  " toolchain list"*)
    "$real" "$@" | sed -E 's/ \((active|default|override)[^)]*\)$//'
    ;;
  " toolchain add"*|" toolchain install"*|" toolchain update"*|" update"*|" target add"*|" component add"*|" self"*)
    echo "cross-build: refused 'rustup $*' asked by cross: its toolchain is pinned and installed by scripts/cross-build.sh" >&2
    exit 1
    ;;
  *) exec "$real" "$@" ;;
esac
