#!/usr/bin/env python3
"""The import graph of a Rust crate's top-level modules, and its cycles.

Usage: import_graph.py SRC_DIR [SRC_DIR ...]
Prints, per crate directory, each module's `crate::X` dependencies (code outside
`#[cfg(test)]` items and outside the files of `#[cfg(test)] mod x;`; comments ignored)
and every strongly connected component of more than one module. Exits 1 if any
directory has a cycle.

A module is a top-level file `src/X.rs` together with everything under `src/X/`.
"""
import re
import sys
from pathlib import Path

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def strip_comments(text):
    """Source without // and /* */ comments (string literals kept as they are)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif text[i] == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = j + 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def item_end(text, start):
    """End of the item starting at `start`: its `;` or its balanced `{...}`."""
    depth, i = 0, start
    while i < len(text):
        c = text[i]
        if c == ";" and depth == 0:
            return i + 1
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def strip_test_items(text):
    """Source without the items marked `#[cfg(test)]`."""
    marker = re.compile(r"#\[cfg\(test\)\]")
    out, pos = [], 0
    for m in marker.finditer(text):
        if m.start() < pos:
            continue
        out.append(text[pos : m.start()])
        pos = item_end(text, m.end())
    out.append(text[pos:])
    return "".join(out)


def group_heads(text, i):
    """Top-level names of a `{a, b::c, d::{e}}` group starting at text[i] == '{'."""
    depth, names, expect = 0, [], True
    while i < len(text):
        c = text[i]
        if c == "{":
            depth += 1
            expect = depth == 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return names
        elif c == "," and depth == 1:
            expect = True
        elif expect and depth == 1:
            m = IDENT.match(text, i)
            if m:
                names.append(m.group())
                i = m.end()
                expect = False
                continue
        i += 1
    return names


def references(text):
    """Top-level module names used as `crate::X` or inside `crate::{...}`."""
    names = set()
    for m in re.finditer(r"\bcrate\s*::\s*", text):
        i = m.end()
        if i < len(text) and text[i] == "{":
            names.update(group_heads(text, i))
        else:
            ident = IDENT.match(text, i)
            if ident:
                names.add(ident.group())
    return names


TEST_MOD = re.compile(
    r"#\[cfg\(test\)\]\s*(?:#\[path\s*=\s*\"([^\"]+)\"\]\s*)?mod\s+(\w+)\s*;"
)


def test_files(src):
    """Files that are `#[cfg(test)] mod x;` (optionally `#[path = "..."]`) of another file."""
    out = set()
    for f in src.rglob("*.rs"):
        here = f.parent if f.name in ("lib.rs", "main.rs", "mod.rs") else f.with_suffix("")
        for path, name in TEST_MOD.findall(strip_comments(f.read_text())):
            if path:
                out.add((f.parent / path).resolve())
            else:
                out |= {(here / f"{name}.rs").resolve(), (here / name / "mod.rs").resolve()}
    return out


def graph(src):
    """{module: set of modules it uses} for the crate rooted at `src`."""
    src = Path(src)
    roots = {"lib.rs", "main.rs"}
    tests = test_files(src)
    modules = {
        p.stem for p in src.glob("*.rs") if p.name not in roots and p.resolve() not in tests
    }
    edges = {m: set() for m in modules}
    for m in modules:
        files = [src / f"{m}.rs"] + sorted((src / m).rglob("*.rs"))
        for f in files:
            if f.exists() and f.resolve() not in tests:
                code = strip_test_items(strip_comments(f.read_text()))
                edges[m] |= (references(code) & modules) - {m}
    return edges


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main(argv):
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    bad = False
    for src in argv:
        edges = graph(src)
        print(f"# {src}")
        for m in sorted(edges):
            print(f"{m} -> {', '.join(sorted(edges[m])) or '-'}")
        for comp in cycles(edges):
            bad = True
            inner = "; ".join(
                f"{m} -> {', '.join(sorted(edges[m] & set(comp)))}" for m in comp
            )
            print(f"CYCLE [{', '.join(comp)}]  {inner}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
