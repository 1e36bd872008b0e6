#!/usr/bin/env python3
"""Seeds for FuzzPintable from the linker-made images: each seed is the 14-byte prefix FuzzPintable
reads (arch index, ld.so flag, load base >> 12, span length, text delta; little-endian) followed by
the image's PT_OPENBSD_SYSCALLS bytes, rebuilt from the manifest's symbol-derived entries in the
image's byte order. Written atomically to Corpus/FuzzPintable/seeds/<sha1>."""
import json, os, struct, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from fuzzlib import store_by_sha1  # noqa: E402

ARCHES = ["amd64", "i386", "arm64", "armv7", "riscv64", "powerpc64", "powerpc", "sparc64", "mips64", "mips64el"]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
out = os.path.join(root, "Corpus", "FuzzPintable", "seeds")
os.makedirs(out, exist_ok=True)
manifest = json.load(open(os.path.join(root, "Corpus", "manifests", "linker-seeds.json")))

def write(data):
    store_by_sha1(out, data)

count = 0
for m in manifest:
    e = "<" if m["endian"] == "little" else ">"
    segment = b"".join(struct.pack(e + "II", off, sysno) for off, sysno in m["entries"])
    offsets = [off for off, _ in m["entries"]]
    length = max(offsets) + 16
    for is_ldso, delta in ((0, 0), (1 if m["kind"] == "shared" else 0, min(offsets) & ~0xFFF)):
        prefix = struct.pack("<BBIII", ARCHES.index(m["arch"]), is_ldso, 0x7F000, length, delta)
        write(prefix + segment)
        count += 1
# Edge cases: empty segment, one entry at offset == len, a sysno 0, a ragged length.
for seg, length in ((b"", 0), (struct.pack("<II", 64, 20), 64), (struct.pack("<II", 16, 0), 64), (b"\x10\x00\x00", 64)):
    write(struct.pack("<BBIII", 0, 0, 0x400, length, 0) + seg)
    count += 1
print(f"pintable-seeds: {count} seeds in {out}")
