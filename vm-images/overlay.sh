#!/usr/bin/env bash
# Adds files to a guest image without rebuilding it: writes BASE_INITRD followed by a cpio archive
# of each DIR. The kernel unpacks concatenated archives in order, so later files replace earlier
# ones. Tests use it to inject workloads (/opt/tcpferry/guest-init.d/NN-name, executable) or a
# freshly built agent (/opt/tcpferry/lib/*.jar, /opt/tcpferry/start-agent, /opt/tcpferry/agent.conf).
#
# Usage: overlay.sh BASE_INITRD OUTPUT DIR...   (each DIR is laid out like the guest's root)
set -euo pipefail

if [[ $# -lt 3 ]]; then
    echo "usage: $0 BASE_INITRD OUTPUT DIR..." >&2
    exit 2
fi
base=$1
output=$2
shift 2

{
    cat "$base"
    for dir in "$@"; do
        (cd "$dir" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc --owner 0:0 --reproducible)
    done
} > "$output.tmp"
mv "$output.tmp" "$output"
