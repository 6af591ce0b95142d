"""Lets an ELF program built against a newer glibc run with an older libm.

Usage: elf-older-math.py FILE VERSION (e.g. GLIBC_2.43), in place. Every dynamic
symbol FILE takes from libm.so.6 at VERSION is made unversioned (it binds to the
default version of the older libm: the same function, a math function's
arguments and result never changed between versions, only how some set errno),
and the need for VERSION is marked weak, so the loader no longer requires it.
Prints the symbols changed; fails if FILE needs nothing of libm at VERSION.
Only libm is touched: a libc symbol at a newer version may have another ABI.
"""

from __future__ import annotations

import struct
import sys

SHT_GNU_VERNEED = 0x6FFFFFFE
SHT_GNU_VERSYM = 0x6FFFFFFF
SHT_DYNSYM = 11
VER_FLG_WEAK = 0x2
VER_NDX_GLOBAL = 1


def main(path: str, version: str) -> None:
    with open(path, "r+b") as elf:
        data = bytearray(elf.read())
        assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "not a 64-bit LSB ELF"
        shoff, shentsize, shnum = (
            struct.unpack_from("<Q", data, 0x28)[0],
            *struct.unpack_from("<HH", data, 0x3A),
        )
        sections = [
            struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)
        ]
        by_type = {section[1]: section for section in sections}
        dynsym, versym, verneed = (
            by_type[SHT_DYNSYM],
            by_type[SHT_GNU_VERSYM],
            by_type[SHT_GNU_VERNEED],
        )
        dynstr = sections[dynsym[6]][4]

        def name(offset: int) -> str:
            return bytes(data[dynstr + offset : data.index(0, dynstr + offset)]).decode()

        indexes = set()
        need = verneed[4]
        for _ in range(verneed[7]):  # sh_info: the number of Verneed entries
            _, count, file, aux, following = struct.unpack_from("<HHIII", data, need)
            entry = need + aux
            for _ in range(count):
                _, flags, other, vname, after = struct.unpack_from("<IHHII", data, entry)
                if name(file) == "libm.so.6" and name(vname) == version:
                    struct.pack_into("<H", data, entry + 4, flags | VER_FLG_WEAK)
                    indexes.add(other)
                entry += after
            need += following
        changed = []
        for i in range(dynsym[5] // 24):
            (index,) = struct.unpack_from("<H", data, versym[4] + 2 * i)
            if index & 0x7FFF in indexes:
                struct.pack_into("<H", data, versym[4] + 2 * i, VER_NDX_GLOBAL)
                changed.append(name(struct.unpack_from("<I", data, dynsym[4] + 24 * i)[0]))
        if not changed:
            sys.exit(f"{path} needs nothing of libm.so.6 at {version}")
        elf.seek(0)
        elf.write(data)
    print(f"{path}: {', '.join(changed)} of libm.so.6 at {version} made unversioned")


if __name__ == "__main__":
    main(*sys.argv[1:])
