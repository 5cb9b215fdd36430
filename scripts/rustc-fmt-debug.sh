#!/usr/bin/env bash
# RUSTC_WRAPPER for scripts/build-static.sh. ureq-proto writes the request line's HTTP version
# with `{:?}` (http::Version's Debug), which -Zfmt-debug=none blanks ("POST /v2/update \r\n", an
# HTTP/0.9 request): that one crate is compiled with -Zfmt-debug=shallow (manual Debug impls kept).
rustc=$1
shift
args=("$@")
if [[ " $* " == *" --crate-name ureq_proto "* ]]; then
  for i in "${!args[@]}"; do
    case "${args[$i]}" in
      fmt-debug=none) args[i]=fmt-debug=shallow ;;
      -Zfmt-debug=none) args[i]=-Zfmt-debug=shallow ;;
    esac
  done
fi
exec "$rustc" "${args[@]}"
