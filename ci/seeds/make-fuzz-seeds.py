#!/usr/bin/env python3
"""Hand-made seed inputs for FuzzScenario (the other structured targets' are written by their Swift
encoders: `syspin seeds`).

Each seed is written byte by byte in the order the target's decoder (Sources/SysPinFuzzing/
<Target>.swift, `decode`) reads it through FuzzReader: little-endian u8/u16/u32/u64, a value
past the end reads as 0. Files go to Corpus/<Target>/seeds/<sha1 of content>; the script only adds
files (running it twice changes nothing). Any byte string is a valid input, so a seed that the
decoders later read differently still fuzzes; it just no longer means what its comment says.

usage: ci/seeds/make-fuzz-seeds.py [ROOT]
"""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from fuzzlib import store_by_sha1  # noqa: E402

ARCH = {n: i for i, n in enumerate(
    ["amd64", "i386", "arm64", "armv7", "riscv64", "powerpc64", "powerpc", "sparc64", "mips64", "mips64el"])}


class W:
    def __init__(self):
        self.b = bytearray()

    def u8(self, v):
        self.b += struct.pack("<B", v & 0xFF)
        return self

    def u16(self, v):
        self.b += struct.pack("<H", v & 0xFFFF)
        return self

    def u32(self, v):
        self.b += struct.pack("<I", v & 0xFFFFFFFF)
        return self

    def u64(self, v):
        self.b += struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)
        return self

    def raw(self, bs):
        self.b += bytes(bs)
        return self


# ---------------------------------------------------------------- kbind parameters (FuzzScenario's kbind steps)
def kb_block(w, addr_choice, length, data, size_choice=0, page_k=0, page_off=16, addr=None, size_pick=0):
    w.u8(addr_choice | (size_choice << 3)).u8(length - 1)
    c = addr_choice % 8
    if c <= 2:
        w.u8(page_k).u8(page_off)    # area + page * k - 16 + off
    elif c == 3:
        w.u16(addr)
    elif c == 7:
        w.u64(addr)
    if size_choice == 6:
        w.u8(size_pick)
    w.raw(data[:length])


def kb_param(w, blocks, extra=0, psize_choice=0, psize_pick=0, trunc=0):
    w.u8({1: 0, 2: 3, 0: 6, 3: 7}[len(blocks)])
    for b in blocks:
        kb_block(w, **b)
    w.u8(extra)
    w.u8(psize_choice)
    if psize_choice % 10 == 9:
        w.u8(psize_pick)
    w.u8(trunc)


# ---------------------------------------------------------------- FuzzScenario
# Site offset choices (% 12): 0 text start, 1 text start - 1, 2 text end, 3 end + 1, 4 zero,
# 5 raw u32, 6 previous, 7..11 text start + u16 % memsz.
# Sysno choices (% 32): 0 pinsyscalls, 4 kbind, 8 sigreturn, 10 exit, 12 20, 14 330, 15 previous,
# 18..29 1 + u16 % 330, 30 zero, 31 331.
def sc_sites(w, sites):
    w.u8(len(sites))
    for off_choice, off, sys_choice, sysno in sites:
        w.u8(off_choice)
        if off_choice % 12 == 5:
            w.u32(off)
        elif off_choice % 12 >= 7:
            w.u16(off)
        w.u8(sys_choice)
        if 18 <= sys_choice % 32 <= 29:
            w.u16(sysno - 1)


def sc_addr(w, choice, extra=None, pick=0):
    w.u8(choice)
    c = choice % 8
    if c == 3:
        w.u16(extra)
    elif c == 4:
        w.u64(extra)
    elif c == 5:
        w.u8(pick).u8(extra)
    elif c >= 6:
        w.u8(pick)


def sc_plain(w, addr, code_pick, any_code=0):
    w.u8(0)
    sc_addr(w, *addr)
    w.u16(any_code).u8(code_pick)


def sc_pin_from_libc(w, addr=(0,)):
    w.u8(4)
    sc_addr(w, *addr)
    w.u8(0).u8(1)   # one thread; take ld.so's conversion of libc.so


def sc_kbind(w, in_text, addr, cookie_pick, param=None):
    w.u8(6).u8(in_text)
    sc_addr(w, *addr)
    w.u8(cookie_pick)
    if param is None:
        w.u8(0)    # NULL
    else:
        w.u8(1)
        param(w)


def sc_tail(w, sigtramp=(0,), area=0, mappings=(), libc_sites=(), libc_pages=1, steps=()):
    w.u8(sigtramp[0])
    if sigtramp[0] % 4 == 1:
        w.u16(sigtramp[1])
    w.u8(area).u8(len(mappings))
    for m in mappings:
        w.u8(m)
    w.u16(0x10).u8(libc_pages - 1)
    sc_sites(w, libc_sites)
    w.u32(0xC00C1E).u8(1)
    w.u8(len(steps))
    for s in steps:
        s(w)
    return w


def scenario_seeds():
    seeds = []
    libc = [(7, 0x10, 12, 20), (7, 0x20, 10, 1), (7, 0x30, 0, 158), (7, 0x40, 20, 5)]

    # amd64 static ET_EXEC: sites for 20, exit, sigreturn; a call from each site, sigreturn from
    # the trampoline, then 20 from exit's site (SIGABRT) and a dead step.
    w = W().u8(ARCH["amd64"]).u8(0).u16(0).u16(0).u16(0x30).u8(0).u8(0)
    sc_sites(w, [(7, 0x10, 12, 20), (7, 0x20, 10, 1), (7, 0x30, 8, 103)])
    sc_tail(w, sigtramp=(1, 0x40), steps=[
        lambda w: sc_plain(w, (6, None, 4), 0),     # candidates[4]: the 20 site, code 20
        lambda w: sc_plain(w, (6, None, 5), 1),     # exit from its site
        lambda w: sc_plain(w, (6, None, 7), 2),     # sigreturn from the trampoline
        lambda w: sc_plain(w, (6, None, 5), 0),     # 20 from exit's site: killed
        lambda w: sc_plain(w, (6, None, 4), 0),
    ])
    seeds.append(w.b)

    # arm64 static PIE: starts with kbind disabled (R-KB-14) and the once-flag set (R-PT-16).
    w = W().u8(ARCH["arm64"]).u8(2).u16(0x10).u16(0).u8(1).u8(1).u8(0)
    sc_sites(w, [(7, 0x10, 4, 86), (7, 0x20, 0, 158), (1, 0, 12, 20)])
    sc_tail(w, mappings=[0, 1], libc_sites=libc, steps=[
        lambda w: sc_pin_from_libc(w, (6, None, 5)),
        lambda w: sc_kbind(w, 0, (6, None, 4), 0, lambda w: kb_param(w, [dict(addr_choice=0, length=8, data=b"pie-kbnd", page_k=1)])),
    ])
    seeds.append(w.b)

    # amd64 dynamic (PIE program): ld.so with pinsyscalls and exit sites; ld.so submits libc's
    # table, libc's 20 runs, ld.so binds kbind, a second submission is refused.
    def dyn(arch, fault=0, pie=True, steps=(), mappings=(0, 1, 0x82)):
        w = W().u8(ARCH[arch]).u8(4 | (0x80 if pie else 0)).u16(0x20).u16(0x30)
        if pie:
            w.u8(0)
        else:
            w.u16(0x10)
        sc_sites(w, [(7, 0x100, 12, 20)])          # the program's own table: ignored
        w.u8(0).u8(1)                                # ld.so text at page 1, two pages
        sc_sites(w, [(7, 0x100, 0, 158), (7, 0x200, 10, 1), (7, 0x300, 8, 103)])
        w.u8(fault)
        return sc_tail(w, mappings=list(mappings), libc_sites=libc, steps=list(steps))

    seeds.append(dyn("amd64", steps=[
        lambda w: sc_pin_from_libc(w),
        lambda w: sc_plain(w, (6, None, 7), 3),      # 20 from libc's 20 site (candidates[7])
        lambda w: sc_kbind(w, 0x40, (0,), 0, lambda w: kb_param(w, [dict(addr_choice=0, length=16, data=b"0123456789abcdef", page_k=1, page_off=8)])),
        lambda w: sc_kbind(w, 0x40, (0,), 0, None),  # NULL after binding: SIGILL
    ]).b)
    # Broken interpreters: no table (R-ELF-24), ET_EXEC (R-ELF-5), missing (ENOENT), entry in
    # the data segment (R-ELF-21), bad p_align (R-ELF-19); each killed with SIGABRT (R-ELF-25).
    for arch, fault in [("i386", 11), ("riscv64", 12), ("powerpc", 10), ("sparc64", 14), ("mips64el", 0x1F)]:
        seeds.append(dyn(arch, fault=fault, steps=[lambda w: sc_plain(w, (0,), 0)]).b)
    # armv7 dynamic non-PIE program, ld.so fine: pinsyscalls twice, probes of libc's sites.
    seeds.append(dyn("armv7", pie=False, steps=[
        lambda w: sc_pin_from_libc(w),
        lambda w: sc_pin_from_libc(w),
        lambda w: sc_plain(w, (6, None, 8), 4),      # exit from libc's exit site
    ]).b)

    # Broken main programs: no note (R-ELF-12), PT_SHLIB (R-ELF-14), p_align 3 (R-ELF-8).
    for arch, variant in [("powerpc64", 0), ("mips64", 1), ("amd64", 2)]:
        w = W().u8(ARCH[arch]).u8(7).u16(0).u16(0).u16(0x30).u8(0).u8(0)
        sc_sites(w, [(7, 0x10, 12, 20)])
        w.u8(variant)
        seeds.append(sc_tail(w, steps=[lambda w: sc_plain(w, (0,), 0)]).b)

    # riscv64 static ET_EXEC with a discarded table (sysno 0): every call dies.
    w = W().u8(ARCH["riscv64"]).u8(1).u16(0).u16(0).u16(0x30).u8(0).u8(0)
    sc_sites(w, [(7, 0x10, 12, 20), (7, 0x20, 30, 0)])
    seeds.append(sc_tail(w, steps=[lambda w: sc_plain(w, (6, None, 4), 0)]).b)
    return seeds


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    for target, seeds in [("FuzzScenario", scenario_seeds())]:
        out = os.path.join(root, "Corpus", target, "seeds")
        os.makedirs(out, exist_ok=True)
        for s in seeds:
            store_by_sha1(out, bytes(s))
        print(f"{target}: {len(seeds)} seeds")


if __name__ == "__main__":
    main()
