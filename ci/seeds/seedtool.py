#!/usr/bin/env python3
"""Helper for ci/make-seeds (not meant to be run by hand).

Subcommands
  sparc64-as IN.s OUT.o
      Assemble a *preprocessed* ci/seeds/sparc64.S into an ELF64 big-endian
      EM_SPARCV9 relocatable object (the LLVM toolchain has no SPARC
      backend). Only the top-level lines ".text", "startup SEQ",
      "stub NAME, SEQ, SYSNO" and "openbsd_ident" are understood, and a
      parameterless macro made of stub lines (pin.inc's program_stubs) is
      expanded; other .macro bodies are skipped. The instruction words are those documented next
      to the macros in sparc64.S.

  verify ARCH KIND IMAGE NM_OUT OBJDUMP_OUT
      Check one linked image and print its manifest record (one JSON line).
      The expected pin table comes from the symbol table (llvm-nm output:
      labels __syspin_trap_<seq>_<sysno>), NOT from the segment; it is then
      compared with the PT_OPENBSD_SYSCALLS bytes, whose location is taken
      from llvm-objdump -p and cross-checked against our own header parse.
      Exit status 2 (reason on stderr) if the image is unusable.

  manifest OUT RECORDS
      Write the JSON array of the records (one JSON object per line in
      RECORDS) to OUT atomically.

  owned MANIFEST
      Print the sha1 of every image listed in an existing manifest.
"""
import json
import os
import re
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from fuzzlib import sha1, write_atomic  # noqa: E402

PT_LOAD, PT_INTERP, PT_NOTE, PT_PHDR = 1, 3, 4, 6
PT_OPENBSD_SYSCALLS = 0x65A3DBE9
PF_X, PF_W = 1, 2
ET_EXEC, ET_DYN = 2, 3

# arch -> (class, endian, e_machine, trap instruction bytes as stored in the file)
ARCH = {
    "amd64":     (64, "little", 62,  bytes.fromhex("0f05")),      # syscall
    "i386":      (32, "little", 3,   bytes.fromhex("cd80")),      # int $0x80
    "arm64":     (64, "little", 183, bytes.fromhex("010000d4")),  # svc 0
    "armv7":     (32, "little", 40,  bytes.fromhex("000000ef")),  # swi 0
    "riscv64":   (64, "little", 243, bytes.fromhex("73000000")),  # ecall
    "powerpc64": (64, "big",    21,  bytes.fromhex("44000002")),  # sc
    "powerpc":   (32, "big",    20,  bytes.fromhex("44000002")),  # sc
    "sparc64":   (64, "big",    43,  bytes.fromhex("91d02000")),  # ta 0
    "mips64":    (64, "big",    8,   bytes.fromhex("0000000c")),  # syscall
    "mips64el":  (64, "little", 8,   bytes.fromhex("0c000000")),  # syscall
}
KINDS = {"static": "EXEC", "static-pie": "DYN", "shared": "DYN"}
LABEL = re.compile(r"^__syspin_trap_(\d+)_(\d+)$")


class Bad(Exception):
    pass


# ----------------------------------------------------------------------------
# ELF reading

def parse_elf(data):
    if data[:4] != b"\x7fELF":
        raise Bad("not ELF")
    cls = {1: 32, 2: 64}.get(data[4])
    endian = {1: "little", 2: "big"}.get(data[5])
    if cls is None or endian is None:
        raise Bad("bad EI_CLASS/EI_DATA")
    e = "<" if endian == "little" else ">"
    if cls == 64:
        (etype, mach, _ver, _entry, phoff, _shoff, _flags, _ehsize, phentsize,
         phnum) = struct.unpack_from(e + "HHIQQQIHHH", data, 16)
        phfmt = e + "IIQQQQQQ"   # type flags offset vaddr paddr filesz memsz align
    else:
        (etype, mach, _ver, _entry, phoff, _shoff, _flags, _ehsize, phentsize,
         phnum) = struct.unpack_from(e + "HHIIIIIHHH", data, 16)
        phfmt = e + "IIIIIIII"   # type offset vaddr paddr filesz memsz flags align
    phdrs = []
    for i in range(phnum):
        off = phoff + i * phentsize
        if off + struct.calcsize(phfmt) > len(data):
            raise Bad("program header table truncated")
        f = struct.unpack_from(phfmt, data, off)
        if cls == 64:
            p = dict(type=f[0], flags=f[1], offset=f[2], vaddr=f[3], filesz=f[5], memsz=f[6])
        else:
            p = dict(type=f[0], offset=f[1], vaddr=f[2], filesz=f[4], memsz=f[5], flags=f[6])
        phdrs.append(p)
    return dict(cls=cls, endian=endian, e=e, type=etype, machine=mach, phdrs=phdrs)


def vaddr_to_file(elf, vaddr, n):
    for p in elf["phdrs"]:
        if p["type"] == PT_LOAD and p["vaddr"] <= vaddr and vaddr + n <= p["vaddr"] + p["filesz"]:
            return p["offset"] + (vaddr - p["vaddr"]), p
    return None, None


def has_openbsd_note(elf, data):
    e = elf["e"]
    for p in elf["phdrs"]:
        if p["type"] != PT_NOTE or p["filesz"] > 1024:
            continue
        blob = data[p["offset"]:p["offset"] + p["filesz"]]
        i = 0
        while i + 12 <= len(blob):
            namesz, descsz, ntype = struct.unpack_from(e + "III", blob, i)
            name = blob[i + 12:i + 12 + namesz]
            dpos = i + 12 + ((namesz + 3) & ~3)
            desc = blob[dpos:dpos + descsz]
            if (namesz, descsz, ntype, name, desc) == (8, 4, 1, b"OpenBSD\0", b"\0\0\0\0"):
                return True
            i = dpos + ((descsz + 3) & ~3)
    return False


def objdump_syscalls_segments(text):
    """(offset, filesz) of every OPENBSD_SYSCALLS line of llvm-objdump -p."""
    out = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"\s*OPENBSD_SYSCALLS\s+off\s+(0x[0-9a-f]+)", line)
        if m:
            m2 = re.search(r"filesz\s+(0x[0-9a-f]+)", lines[i + 1] if i + 1 < len(lines) else "")
            if not m2:
                raise Bad("cannot parse llvm-objdump -p output")
            out.append((int(m.group(1), 16), int(m2.group(1), 16)))
    return out


def verify(arch, kind, image, nm_out, objdump_out):
    data = open(image, "rb").read()
    cls, endian, machine, trap = ARCH[arch]
    elf = parse_elf(data)
    want_type = KINDS[kind]
    got_type = {ET_EXEC: "EXEC", ET_DYN: "DYN"}.get(elf["type"], str(elf["type"]))
    if (elf["cls"], elf["endian"], elf["machine"]) != (cls, endian, machine):
        raise Bad("class/endian/machine %r, expected %r" %
                  ((elf["cls"], elf["endian"], elf["machine"]), (cls, endian, machine)))
    if got_type != want_type:
        raise Bad("e_type %s, expected %s" % (got_type, want_type))
    types = [p["type"] for p in elf["phdrs"]]
    if PT_INTERP in types:
        raise Bad("has PT_INTERP")
    if kind == "static-pie":
        loads = [p for p in elf["phdrs"] if p["type"] == PT_LOAD]
        if PT_PHDR not in types or not loads or loads[0]["vaddr"] != 0:
            raise Bad("static PIE without PT_PHDR or with base PT_LOAD vaddr != 0")
    if not has_openbsd_note(elf, data):
        raise Bad("no OpenBSD ident note in a PT_NOTE segment")

    # Expected table, from the symbol table only.
    sites = {}
    for line in open(nm_out):
        f = line.split()
        if len(f) != 3:
            continue
        m = LABEL.match(f[2])
        if not m:
            continue
        if f[1] not in ("t", "T"):
            raise Bad("trap label %s has nm type %s" % (f[2], f[1]))
        seq, sysno = int(m.group(1)), int(m.group(2))
        if seq in sites:
            raise Bad("duplicate trap label sequence %d" % seq)
        sites[seq] = (int(f[0], 16), sysno)
    if not sites or sorted(sites) != list(range(len(sites))):
        raise Bad("trap label sequence numbers are not 0..n-1: %s" % sorted(sites))
    entries = [sites[i] for i in range(len(sites))]

    # Each label must sit on the arch's trap instruction in an executable segment.
    for off, sysno in entries:
        foff, seg = vaddr_to_file(elf, off, len(trap))
        if foff is None:
            raise Bad("trap label 0x%x not inside a PT_LOAD" % off)
        if not seg["flags"] & PF_X or seg["flags"] & PF_W:
            raise Bad("trap label 0x%x not in a text segment" % off)
        if data[foff:foff + len(trap)] != trap:
            raise Bad("no %s trap instruction at 0x%x (found %s)" %
                      (arch, off, data[foff:foff + len(trap)].hex()))
        if off > 0xFFFFFFFF:
            raise Bad("trap address 0x%x does not fit a u32 pin offset" % off)

    # The segment, as llvm-objdump reports it, and as we parse it.
    segs = [(p["offset"], p["filesz"]) for p in elf["phdrs"] if p["type"] == PT_OPENBSD_SYSCALLS]
    tool = objdump_syscalls_segments(open(objdump_out).read())
    if not segs:
        raise Bad("no PT_OPENBSD_SYSCALLS segment")
    if len(segs) != 1 or tool != segs:
        raise Bad("PT_OPENBSD_SYSCALLS mismatch: parsed %r, llvm-objdump %r" % (segs, tool))
    poff, psz = segs[0]
    if psz % 8 or poff + psz > len(data):
        raise Bad("PT_OPENBSD_SYSCALLS has bad size/offset")
    raw = data[poff:poff + psz]
    table = [tuple(x) for x in struct.iter_unpack(elf["e"] + "II", raw)]
    if table != entries:
        raise Bad("segment %r != symbols %r" % (table, entries))

    return {
        "sha1": sha1(data),
        "arch": arch,
        "kind": kind,
        "class": cls,
        "endian": endian,
        "type": got_type,
        "entries": [list(x) for x in entries],
        # not part of the manifest; printed by make-seeds
        "_machine": elf["machine"],
    }


# ----------------------------------------------------------------------------
# sparc64 mini-assembler

def sparc64_as(src, out):
    text = bytearray()
    syms_local = []          # (name, value)
    syms_global = {}         # name -> [value, size]
    pins = []                # (text offset, sysno)
    calls = []               # (text offset, target name)
    note = False

    def word(w):
        text.extend(struct.pack(">I", w))

    def trapsite(seq, sysno):
        syms_local.append(("__syspin_trap_%s_%d" % (seq, sysno), len(text)))
        pins.append((len(text), sysno))

    def func(name):
        if name in syms_global:
            raise Bad("duplicate symbol " + name)
        syms_global[name] = [len(text), 0]

    lines = [raw.split("!", 1)[0].strip() for raw in open(src)]
    # Parameterless macros made only of stub lines (pin.inc's program_stubs) are expanded.
    bodies, name = {}, None
    for line in lines:
        if name is not None:
            if line.startswith(".endm"):
                name = None
            elif line:
                bodies[name].append(line)
        elif re.match(r"^\.macro\s+\w+$", line):
            name = line.split()[1]
            bodies[name] = []
    stubs_only = {n: b for n, b in bodies.items() if b and all(l.startswith("stub ") for l in b)}
    in_macro = False
    seen_text = False
    for line in [x for line in lines for x in stubs_only.get(line, [line])]:
        if not line:
            continue
        if in_macro:
            in_macro = not line.startswith(".endm")
            continue
        if line.startswith(".macro"):
            in_macro = True
            continue
        if line == ".text":
            seen_text = True
            continue
        m = re.match(r"^stub\s+(\w+)\s*,\s*(\d+)\s*,\s*(\d+)$", line)
        if m and seen_text:
            name, seq, sysno = m.group(1), m.group(2), int(m.group(3))
            if not 0 < sysno < 4096:
                raise Bad("sysno out of simm13 range")
            func(name)
            word(0x82102000 | sysno)            # mov sysno, %g1
            trapsite(seq, sysno)
            word(0x91D02000)                    # t 0
            word(0x81C3E008)                    # retl
            word(0x01000000)                    #  nop
            syms_global[name][1] = len(text) - syms_global[name][0]
            continue
        m = re.match(r"^startup\s+(\d+)$", line)
        if m and seen_text:
            func("_start")
            calls.append((len(text), "_thread_sys_getpid"))
            word(0x40000000)                    # call _thread_sys_getpid
            word(0x01000000)                    #  nop
            calls.append((len(text), "_thread_sys_write"))
            word(0x40000000)                    # call _thread_sys_write
            word(0x01000000)                    #  nop
            word(0x90100000)                    # clr %o0
            word(0x82102001)                    # mov 1, %g1
            trapsite(m.group(1), 1)
            word(0x91D02000)                    # t 0
            word(0x00000000)                    # illtrap 0
            syms_global["_start"][1] = len(text) - syms_global["_start"][0]
            continue
        if line == "openbsd_ident":
            note = True
            continue
        raise Bad("sparc64-as: unsupported line: %r" % line)
    for _, target in calls:
        if target not in syms_global:
            raise Bad("sparc64-as: undefined call target " + target)

    E = ">"
    R_SPARC_32, R_SPARC_WDISP30 = 3, 7
    def string_table():
        """An ELF string table (a bytearray starting with NUL) and the function that adds a name."""
        table = bytearray(b"\0")

        def add(s):
            o = len(table)
            table.extend(s.encode() + b"\0")
            return o
        return table, add

    # Symbol table: null, section symbol for .text, local labels, globals.
    strtab, sname = string_table()

    SEC_TEXT, SEC_PINS, SEC_RELA_PINS, SEC_RELA_TEXT, SEC_NOTE = 1, 2, 3, 4, 5
    symtab = bytearray(bytes(24))
    symtab += struct.pack(E + "IBBHQQ", 0, 3, 0, SEC_TEXT, 0, 0)          # STT_SECTION .text
    for name, val in syms_local:
        symtab += struct.pack(E + "IBBHQQ", sname(name), 0, 0, SEC_TEXT, val, 0)
    first_global = len(symtab) // 24
    gindex = {}
    for name in sorted(syms_global, key=lambda n: syms_global[n][0]):
        val, size = syms_global[name]
        gindex[name] = len(symtab) // 24
        symtab += struct.pack(E + "IBBHQQ", sname(name), (1 << 4) | 2, 0, SEC_TEXT, val, size)

    pinsec = b"".join(struct.pack(E + "II", 0, sysno) for _, sysno in pins)
    rela_pins = b"".join(struct.pack(E + "QQq", 8 * i, (1 << 32) | R_SPARC_32, off)
                         for i, (off, _) in enumerate(pins))
    rela_text = b"".join(struct.pack(E + "QQq", off, (gindex[t] << 32) | R_SPARC_WDISP30, 0)
                         for off, t in calls)
    notesec = struct.pack(E + "III", 8, 4, 1) + b"OpenBSD\0" + struct.pack(E + "I", 0) if note else b""

    shstr, shname = string_table()

    # (name, type, flags, data, link, info, align, entsize)
    SHT_PROGBITS, SHT_SYMTAB, SHT_STRTAB, SHT_RELA, SHT_NOTE = 1, 2, 3, 4, 7
    SHF_ALLOC, SHF_EXECINSTR, SHF_INFO_LINK = 2, 4, 0x40
    SEC_SYMTAB, SEC_STRTAB, SEC_SHSTRTAB = 6, 7, 8
    secs = [
        (".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, bytes(text), 0, 0, 4, 0),
        (".openbsd.syscalls", SHT_PROGBITS, 0, pinsec, 0, 0, 4, 0),
        (".rela.openbsd.syscalls", SHT_RELA, SHF_INFO_LINK, rela_pins, SEC_SYMTAB, SEC_PINS, 8, 24),
        (".rela.text", SHT_RELA, SHF_INFO_LINK, rela_text, SEC_SYMTAB, SEC_TEXT, 8, 24),
        (".note.openbsd.ident", SHT_NOTE, SHF_ALLOC, notesec, 0, 0, 4, 0),
        (".symtab", SHT_SYMTAB, 0, bytes(symtab), SEC_STRTAB, first_global, 8, 24),
        (".strtab", SHT_STRTAB, 0, bytes(strtab), 0, 0, 1, 0),
    ]
    names = [shname(s[0]) for s in secs]
    shstrname = shname(".shstrtab")
    secs.append((".shstrtab", SHT_STRTAB, 0, bytes(shstr), 0, 0, 1, 0))
    names.append(shstrname)
    assert len(secs) == SEC_SHSTRTAB

    body = bytearray(64)
    offsets = []
    for s in secs:
        while len(body) % max(s[6], 1):
            body.append(0)
        offsets.append(len(body))
        body += s[3]
    while len(body) % 8:
        body.append(0)
    shoff = len(body)
    body += bytes(64)                       # SHN_UNDEF
    for s, nm, off in zip(secs, names, offsets):
        _, typ, flags, blob, link, info, align, entsize = s
        body += struct.pack(E + "IIQQQQIIQQ", nm, typ, flags, 0, off, len(blob), link, info, align, entsize)
    ident = b"\x7fELF" + bytes([2, 2, 1, 12]) + bytes(8)   # ELF64, MSB, v1, ELFOSABI_OPENBSD
    hdr = ident + struct.pack(E + "HHIQQQIHHHHHH", 1, 43, 1, 0, 0, shoff, 0, 64, 0, 0, 64,
                              len(secs) + 1, SEC_SHSTRTAB)
    body[0:64] = hdr
    with open(out, "wb") as f:
        f.write(body)


# ----------------------------------------------------------------------------



def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    try:
        if cmd == "sparc64-as" and len(argv) == 4:
            sparc64_as(argv[2], argv[3])
        elif cmd == "verify" and len(argv) == 7:
            rec = verify(*argv[2:7])
            print(json.dumps(rec, separators=(", ", ": ")))
        elif cmd == "manifest" and len(argv) == 4:
            recs = []
            for line in open(argv[3]):
                if line.strip():
                    r = json.loads(line)
                    r.pop("_machine", None)
                    recs.append(r)
            body = "[\n" + ",\n".join("  " + json.dumps(r, separators=(", ", ": ")) for r in recs) + "\n]\n"
            write_atomic(argv[2], body.encode())
        elif cmd == "owned" and len(argv) == 3:
            for r in json.load(open(argv[2])):
                sha = r.get("sha1", "")
                if re.fullmatch(r"[0-9a-f]{40}", sha):
                    print(sha)
        else:
            print(__doc__, file=sys.stderr)
            return 64
    except Bad as e:
        print(str(e), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
