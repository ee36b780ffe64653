#!/usr/bin/env bash
# Runs the tcpferry hook under two real libvirtd instances (vm-images/libvirt/host-rig.sh) and
# checks which calls each host gets, and that libvirt accepts the hook everywhere (its XML
# pass-through for restore and migrate included), for: start, suspend/resume, save, restore,
# live migration both ways, a failed live migration, destroy, offline migration.
#
# No tcpferry host manager runs: every sent call logs outcome=unreachable, which also shows that
# tcpferry being down never fails a libvirt operation. The guest is a diskless BIOS-only domain
# (64 MiB, TCG): no image needed.
#
# Needs root, libvirtd, virsh and qemu-system-x86_64 (libvirt-daemon libvirt-daemon-driver-qemu
# libvirt-clients qemu-system-x86). Takes about a minute (each libvirtd probes QEMU first).
# Everything it creates is named hookchk<pid>-... and removed on exit, also on failure.
# Only 10.99.7.0/24 inside its two namespaces carries traffic.
#
# Usage: check-under-libvirtd.sh      (exit 0 when every step got exactly the expected calls)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
rig="$here/../vm-images/libvirt/host-rig.sh"
p="hookchk$$"
work=$(mktemp -d "/tmp/$p.XXXX")
dom="$p-dom"
failures=0

cleanup() {
    local status=$?
    set +e
    "$rig" stop --state "$work/a" 2>/dev/null
    "$rig" stop --state "$work/b" 2>/dev/null
    ip netns del "$p-a" 2>/dev/null
    ip netns del "$p-b" 2>/dev/null
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

[[ $EUID -eq 0 ]] || { echo "needs root" >&2; exit 1; }
for tool in libvirtd virsh qemu-system-x86_64; do
    command -v "$tool" > /dev/null || { echo "missing $tool" >&2; exit 1; }
done

# Two hosts: namespaces joined by a veth pair.
ip netns add "$p-a"
ip netns add "$p-b"
ip -n "$p-a" link set lo up
ip -n "$p-b" link set lo up
ip -n "$p-a" link add "${p}x" type veth peer name "${p}y" netns "$p-b"
ip -n "$p-a" addr add 10.99.7.1/24 dev "${p}x"
ip -n "$p-a" link set "${p}x" up
ip -n "$p-b" addr add 10.99.7.2/24 dev "${p}y"
ip -n "$p-b" link set "${p}y" up

# The hook, installed by install.sh into a prefix; per host a wrapper named like the installed
# hook that points it at this host's config (libvirt clears the environment, and this check must
# not touch the machine's /etc/tcpferry). No control socket exists at the configured path.
"$here/install.sh" --prefix "$work/prefix" > /dev/null
for host in a b; do
    mkdir -p "$work/hooks-$host/qemu.d"
    cat > "$work/$host.conf" <<EOF
control_socket = $work/no-host-manager.sock
timeout_ms = 300
log_file = $work/$host.log
EOF
    cat > "$work/hooks-$host/qemu.d/50-tcpferry" <<EOF
#!/bin/sh
export TCPFERRY_HOOK_CONF=$work/$host.conf
exec $work/prefix/etc/libvirt/hooks/qemu.d/50-tcpferry "\$@"
EOF
    chmod 0755 "$work/hooks-$host/qemu.d/50-tcpferry"
done

A=$("$rig" start --netns "$p-a" --state "$work/a" --listen 10.99.7.1 --hooks "$work/hooks-a")
B=$("$rig" start --netns "$p-b" --state "$work/b" --listen 10.99.7.2 --hooks "$work/hooks-b")

cat > "$work/dom.xml" <<EOF
<domain type='qemu'>
  <name>$dom</name>
  <uuid>3f2c1a9e-5b7d-4e08-9c61-2a4b8d0e7f13</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
EOF

# The "op subop" calls host $1 logged since the last mark, on one line.
calls_since_mark() {
    local log="$work/$1.log"
    [[ -f "$log" ]] || return 0
    awk '/^=== mark/ { calls = ""; next }
         { op = ""; sub_ = ""
           for (i = 1; i <= NF; i++) {
             if ($i ~ /^op=/) op = substr($i, 4)
             if ($i ~ /^subop=/) sub_ = substr($i, 7)
             if ($i ~ /^outcome=/ && $i != "outcome=unreachable" && $i != "outcome=ignored") op = op "(" $i ")"
           }
           calls = calls (calls == "" ? "" : ", ") op " " sub_ }
         END { print calls }' "$log"
}

# step NAME EXPECTED_ON_A EXPECTED_ON_B COMMAND...: runs COMMAND, then compares each host's calls.
step() {
    local name=$1 want_a=$2 want_b=$3 t0 got_a got_b
    shift 3
    echo "=== mark" >> "$work/a.log"
    echo "=== mark" >> "$work/b.log"
    t0=$(date +%s%N)
    "$@"
    got_a=$(calls_since_mark a)
    got_b=$(calls_since_mark b)
    if [[ "$got_a" == "$want_a" && "$got_b" == "$want_b" ]]; then
        printf 'ok    %-40s %6d ms  A: [%s]  B: [%s]\n' "$name" $((($(date +%s%N) - t0) / 1000000)) "$got_a" "$got_b"
    else
        printf 'FAIL  %s\n      A got [%s], want [%s]\n      B got [%s], want [%s]\n' \
            "$name" "$got_a" "$want_a" "$got_b" "$want_b"
        failures=$((failures + 1))
    fi
}

start_calls="prepare begin, start begin, started begin"
gone_calls="stopped end, release end"
incoming_calls="migrate begin, $start_calls"

step "start on A" "$start_calls" "" virsh -q -c "$A" create "$work/dom.xml"
step "suspend and resume on A" "" "" sh -c "virsh -q -c '$A' suspend $dom && virsh -q -c '$A' resume $dom"
step "save on A" "$gone_calls" "" virsh -q -c "$A" save "$dom" "$work/a/saved.img"
step "restore on A (XML passed through)" "restore begin, $start_calls" "" virsh -q -c "$A" restore "$work/a/saved.img"
step "live migration A->B (XML passed through)" "$gone_calls" "$incoming_calls" \
    virsh -q -c "$A" migrate --live --p2p "$dom" "qemu+tcp://10.99.7.2/system" --migrateuri tcp://10.99.7.2
# A migration URI that leads nowhere: destination A starts its incoming QEMU, the source cannot
# reach it, the migration fails, A stops its QEMU again; the guest keeps running on B.
step "failed live migration B->A" "$incoming_calls, $gone_calls" "" \
    sh -c "! virsh -q -c '$B' migrate --live --p2p $dom qemu+tcp://10.99.7.1/system --migrateuri tcp://10.99.7.9:49999 2>/dev/null"
step "destroy on B (after defining it)" "" "$gone_calls" \
    sh -c "virsh -q -c '$B' dumpxml $dom > '$work/live.xml' && virsh -q -c '$B' define '$work/live.xml' > /dev/null && virsh -q -c '$B' destroy $dom"
step "offline migration B->A" "migrate begin" "" \
    virsh -q -c "$B" migrate --offline --persistent --p2p "$dom" "qemu+tcp://10.99.7.1/system"
virsh -q -c "$A" undefine "$dom" > /dev/null
virsh -q -c "$B" undefine "$dom" > /dev/null

if [[ $failures -gt 0 ]]; then
    echo "$failures step(s) failed; hook logs:" >&2
    cat "$work/a.log" "$work/b.log" >&2
    exit 1
fi
echo "all steps got the expected hook calls"
