#!/usr/bin/env python3
"""Checks every #include of the tree against the layer table (cmake/layers.txt).

usage: layer_check.py ROOT [--table FILE]

For each C/C++ source under ROOT's folders, an include whose first path component is a project
folder ("sim/flat_book.h", <feed/ws_client.h>) must name the file's own folder or one its table
row allows ("*" allows all). Folders holding sources but missing from the table, and table rows
naming unknown folders, are errors too. Prints one line per violation (file:line: the edge and
what the row allows) and exits 1; exits 0 when the tree keeps the table, 2 on bad usage.
"""
import os
import re
import sys

SOURCE_EXT = (".h", ".hh", ".hpp", ".cc", ".cpp", ".cxx", ".c")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
SKIP_DIRS = {"build", ".git", "artifacts", "node_modules"}


def read_table(path):
    table = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if ":" not in line:
                raise ValueError(f"{path}:{n}: expected 'folder: allowed folders', got {line!r}")
            folder, allowed = line.split(":", 1)
            folder = folder.strip()
            if folder in table:
                raise ValueError(f"{path}:{n}: folder {folder!r} listed twice")
            table[folder] = set(allowed.split())
    return table


def source_files(root, folder):
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in sorted(filenames):
            if name.endswith(SOURCE_EXT):
                yield os.path.join(dirpath, name)


def top_folders_with_sources(root):
    out = []
    for name in sorted(os.listdir(root)):
        if name in SKIP_DIRS or name.startswith(".") or not os.path.isdir(os.path.join(root, name)):
            continue
        if any(True for _ in source_files(root, name)):
            out.append(name)
    return out


def check(root, table):
    errors = []
    folders = top_folders_with_sources(root)
    for folder in folders:
        if folder not in table:
            errors.append(f"{folder}/: holds sources but has no row in the layer table")
    for folder, allowed in table.items():
        for a in allowed - {"*"}:
            if a not in table:
                errors.append(f"layer table: {folder} allows unknown folder {a!r}")
    project = set(table) | set(folders)
    for folder in folders:
        allowed = table.get(folder, set())
        for path in source_files(root, folder):
            rel = os.path.relpath(path, root)
            with open(path, encoding="utf-8", errors="replace") as f:
                for n, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m or "/" not in m.group(1):
                        continue
                    target = m.group(1).split("/", 1)[0]
                    if target not in project or target == folder or "*" in allowed or target in allowed:
                        continue
                    may = " ".join(sorted(allowed)) or "nothing"
                    errors.append(f"{rel}:{n}: {folder} -> {target} (#include \"{m.group(1)}\"); "
                                  f"{folder} may include: {may}")
    return errors


def main(argv):
    args = argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    root = args[0]
    table_path = os.path.join(root, "cmake", "layers.txt")
    if len(args) == 3 and args[1] == "--table":
        table_path = args[2]
    elif len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        table = read_table(table_path)
    except (OSError, ValueError) as e:
        print(f"layer_check: {e}", file=sys.stderr)
        return 2
    errors = check(root, table)
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"layer_check: {len(errors)} include(s) break {table_path}", file=sys.stderr)
        return 1
    print(f"layer_check: every include keeps {table_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
