#!/usr/bin/env python3
"""Seeds for FuzzPintable from the linker-made images: each seed is the 14-byte prefix FuzzPintable
reads (arch index, ld.so flag, load base >> 12, span length, text delta; little-endian) followed by
the image's PT_OPENBSD_SYSCALLS bytes, rebuilt from the manifest's symbol-derived entries in the
image's byte order. Written atomically to Corpus/FuzzPintable/<sha1>."""
import hashlib, json, os, struct, sys, tempfile

ARCHES = ["amd64", "i386", "arm64", "armv7", "riscv64", "powerpc64", "powerpc", "sparc64", "mips64", "mips64el"]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
out = os.path.join(root, "Corpus", "FuzzPintable")
os.makedirs(out, exist_ok=True)
manifest = json.load(open(os.path.join(root, "Corpus", "manifests", "linker-seeds.json")))

def write(data):
    name = hashlib.sha1(data).hexdigest()
    fd, tmp = tempfile.mkstemp(dir=out)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, os.path.join(out, name))

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
