#!/usr/bin/env bash
# Extracts the uncompressed ELF vmlinux from a compressed x86 kernel image (bzImage).
#
# Same approach as the kernel's scripts/extract-vmlinux, written for this project: the bzImage is a
# small decompressor followed by the compressed kernel. Look for each known compression magic, try
# to decompress from every offset where it occurs, and keep the first result that is an ELF file.
# QEMU boots such a vmlinux through its PVH entry point, which skips the decompressor and saves
# seconds under TCG.
#
# Usage: extract-vmlinux.sh BZIMAGE OUTPUT
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 BZIMAGE OUTPUT" >&2
    exit 2
fi
image=$1
output=$2

is_elf() {
    [[ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" == '177ELF' ]]
}

# try_format MAGIC_REGEX DECOMPRESSOR...: tries every offset where the magic occurs.
try_format() {
    local magic=$1
    shift
    local offset
    for offset in $(LC_ALL=C grep --only-matching --byte-offset --binary --text --perl-regexp "$magic" "$image" | cut -d: -f1); do
        # Trailing garbage after the compressed stream makes decompressors complain; the stream
        # itself is complete, so their exit status is not the judge: the ELF magic is.
        tail -c "+$((offset + 1))" "$image" | "$@" > "$output.tmp" 2>/dev/null || true
        if [[ -s "$output.tmp" ]] && is_elf "$output.tmp"; then
            mv "$output.tmp" "$output"
            return 0
        fi
    done
    rm -f "$output.tmp"
    return 1
}

try_format '\x1f\x8b\x08' gunzip -c ||
    try_format '\xfd\x37\x7a\x58\x5a\x00' xz -dc ||
    try_format '\x28\xb5\x2f\xfd' zstd -dc ||
    try_format '\x42\x5a\x68' bunzip2 -c ||
    try_format '\x5d\x00\x00\x00' unlzma -c ||
    try_format '\x89\x4c\x5a' lzop -dc ||
    try_format '\x02\x21\x4c\x18' lz4 -dc ||
    {
        echo "$0: no compressed ELF kernel found in $image" >&2
        exit 1
    }
