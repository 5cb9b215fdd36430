#!/usr/bin/env python3
"""Writes (or with --check, verifies) po/templates/route53-ddns.pot for luci-app-route53-ddns.

Collects the msgids the way LuCI's build/i18n-scan.pl does for this app: every _('…') / N_(n, '…', '…')
call in the views (adjacent string literals joined with + are one string) and the menu titles.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "openwrt" / "luci-app-route53-ddns"
POT = APP / "po" / "templates" / "route53-ddns.pot"

_STR = re.compile(r"""\s*(?:'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)")\s*""", re.S)
_ESC = {"n": "\n", "t": "\t", "'": "'", '"': '"', "\\": "\\"}


def _unescape(s: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESC.get(m.group(1), m.group(1)), s)


def _literal_sum(src: str, pos: int) -> tuple[str | None, int]:
    """Parses 'a' + "b" + … starting at pos; returns (joined string or None, end)."""
    parts = []
    while True:
        m = _STR.match(src, pos)
        if not m:
            return (None, pos) if not parts else ("".join(parts), pos)
        parts.append(_unescape(m.group(1) if m.group(1) is not None else m.group(2)))
        pos = m.end()
        if src.startswith("+", pos):
            pos += 1
            continue
        return "".join(parts), pos


def scan_js(src: str) -> list[str]:
    found = []
    for m in re.finditer(r"(?<![\w.$])_\(", src):
        s, end = _literal_sum(src, m.end())
        if s is not None and src[end:end + 1] in (")", ","):
            found.append(s)
    return found


def collect() -> list[str]:
    ids: list[str] = []
    for js in sorted((APP / "htdocs").rglob("*.js")):
        ids += scan_js(js.read_text(encoding="utf-8"))
    for menu in sorted((APP / "root" / "usr" / "share" / "luci" / "menu.d").glob("*.json")):
        for node in json.loads(menu.read_text(encoding="utf-8")).values():
            if "title" in node:
                ids.append(node["title"])
    seen, out = set(), []
    for i in ids:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return sorted(out)


def _po_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render(ids: list[str]) -> str:
    out = ['msgid ""', 'msgstr "Content-Type: text/plain; charset=UTF-8"', ""]
    for i in ids:
        out += [f"msgid {_po_str(i)}", 'msgstr ""', ""]
    return "\n".join(out)


def main() -> int:
    text = render(collect())
    if "--check" in sys.argv:
        if not POT.is_file() or POT.read_text(encoding="utf-8") != text:
            print(f"{POT} is out of date: run tests/luci/i18n_scan.py", file=sys.stderr)
            return 1
        return 0
    POT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
