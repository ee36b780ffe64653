#!/usr/bin/env bash
# Writes domain.xml.in with its @KEY@ placeholders filled in, to stdout.
#
# Usage: render-domain.sh NAME=... UUID=... MEMORY_MIB=... KERNEL=... INITRD=... CMDLINE=...
#                         BRIDGE=... MAC=...
# Fails if a placeholder is left unfilled.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# bash 5.2 would put the matched text where a replacement contains "&".
shopt -u patsub_replacement 2>/dev/null || true
# The leading comment documents the placeholders; it is not part of the output.
xml=$(sed "1,/-->/d" "$here/domain.xml.in")
for assignment in "$@"; do
    key=${assignment%%=*}
    value=${assignment#*=}
    # XML-escape the value: kernel command lines may contain & or <.
    value=${value//&/&amp;}
    value=${value//</&lt;}
    value=${value//>/&gt;}
    value=${value//\'/&apos;}
    xml=${xml//@$key@/$value}
done
left=$(grep -o '@[A-Z_]*@' <<< "$xml" | sort -u | tr '\n' ' ' || true)
if [[ -n "$left" ]]; then
    echo "render-domain.sh: unfilled placeholders: $left" >&2
    exit 1
fi
echo "$xml"
