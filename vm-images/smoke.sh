#!/usr/bin/env bash
# End-to-end proof of the guest image and the host rigs, with timings.
#
#  1. builds (or reuses) the image and adds a test hook to it with overlay.sh;
#  2. plain QEMU: boots the guest on a bridge in its own network namespace, waits for
#     "tcpferry-guest ready" on the console, pings it over IPv4 and IPv6 from the host namespace,
#     checks nft, the cgroup2 mount and a round trip over the agent's virtio-serial channel;
#  3. libvirt: one host-rig.sh instance in the same namespace defines and starts the domain, then
#     virsh suspend/resume, save/restore, with ping and a channel round trip after each;
#  4. with --migrate: a second host namespace and libvirtd on the same L2 segment (both host
#     bridges joined through a switch namespace), live peer-to-peer migration to it, ping and a
#     channel round trip on the destination.
# Everything it creates carries the prefix tfvm<pid>- and is removed on exit, also on failure.
# Only 10.77.0.0/24 and fd77::/64 inside those namespaces carry traffic.
#
# Usage: smoke.sh [--migrate]    (root; exits non-zero on the first failed check)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
prefix="tfvm$$-"
netns="${prefix}host"
netns2="${prefix}host2"
switch="${prefix}sw"
migrate=false
[[ "${1:-}" == --migrate ]] && migrate=true
domain="${prefix}guest"
work=$(mktemp -d "/tmp/${prefix}XXXX")
guest_ip=10.77.0.2
guest_ip6=fd77::2
channel=org.tcpferry.agent.0
timings=()

log() {
    echo "smoke: $*" >&2
}

fail() {
    log "FAILED: $*"
    exit 1
}

now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

# timed LABEL COMMAND...: runs COMMAND and records its wall time under LABEL.
timed() {
    local label=$1 t0
    shift
    t0=$(now_ms)
    "$@"
    timings+=("$label: $(($(now_ms) - t0)) ms")
}

cleanup() {
    local status=$?
    set +e
    # Everything is about to be removed: show the logs that explain a failure first.
    if [[ $status -ne 0 ]]; then
        local file
        for file in "$work"/rig*/log/libvirt/libvirtd.log "$work"/rig*/log/libvirt/qemu/*.log "$work/qemu/console.log"; do
            [[ -f "$file" ]] || continue
            echo "---- last lines of ${file#"$work"/}" >&2
            grep -v -e 'ethtool ioctl error' -e 'Unable to open /dev/kvm' "$file" | tail -15 >&2
        done
    fi
    [[ -d "$work/rig" ]] && "$here/libvirt/host-rig.sh" stop --state "$work/rig"
    [[ -d "$work/rig2" ]] && "$here/libvirt/host-rig.sh" stop --state "$work/rig2"
    [[ -d "$work/qemu" ]] && "$here/qemu/run-guest.sh" stop --state "$work/qemu"
    ip netns del "$netns" 2>/dev/null
    ip netns del "$netns2" 2>/dev/null
    ip netns del "$switch" 2>/dev/null
    rm -rf "$work"
    if [[ $status -eq 0 ]]; then
        log "PASSED"
    else
        log "FAILED (exit $status); everything removed"
    fi
    printf '  %s\n' "${timings[@]}" >&2
}
trap cleanup EXIT
# A signal must also end in cleanup (bash skips the EXIT trap when killed by an untrapped signal).
trap 'exit 130' INT TERM HUP

create_network() {
    ip netns add "$netns"
    ip -n "$netns" link set lo up
    ip -n "$netns" link add br0 type bridge
    ip -n "$netns" addr add 10.77.0.1/24 dev br0
    ip -n "$netns" addr add fd77::1/64 dev br0 nodad
    ip -n "$netns" link set br0 up
    if $migrate; then
        # Same bridge name on both hosts, so the domain XML migrates unchanged.
        ip netns add "$switch"
        ip -n "$switch" link add br0 type bridge
        ip -n "$switch" link set br0 up
        ip netns add "$netns2"
        ip -n "$netns2" link set lo up
        ip -n "$netns2" link add br0 type bridge
        ip -n "$netns2" addr add 10.77.0.12/24 dev br0
        ip -n "$netns2" link set br0 up
        local host port
        for host in "$netns" "$netns2"; do
            port="p${host#"$prefix"}"
            ip -n "$host" link add uplink type veth peer name "$port" netns "$switch"
            ip -n "$host" link set uplink master br0 up
            ip -n "$switch" link set "$port" master br0 up
        done
    fi
}

# The hook proves that hooks run, that nft and cgroup2 work, and echoes one line read from the
# agent channel back to it (the agent is disabled here, so the port is free).
write_hook() {
    local hook="$work/overlay/opt/tcpferry/guest-init.d/50-smoke"
    mkdir -p "$(dirname "$hook")"
    cat > "$hook" <<EOF
#!/bin/sh
nft add table inet tfsmoke && nft list tables | grep -q tfsmoke && echo "smoke-hook: nft ok"
[ -e /sys/fs/cgroup/cgroup.controllers ] && echo "smoke-hook: cgroup2 ok"
[ -c /dev/virtio-ports/$channel ] && echo "smoke-hook: channel device ok"
(
    while true; do
        line=\$(head -n 1 /dev/virtio-ports/$channel)
        if [ -n "\$line" ]; then
            echo "smoke-hook: channel got \$line"
            echo "echo \$line" > /dev/virtio-ports/$channel
        else
            sleep 0.2
        fi
    done
) &
EOF
    chmod +x "$hook"
    "$here/overlay.sh" "$work/image/initrd.img" "$work/initrd-smoke.img" "$work/overlay"
}

# channel_round_trip SOCKET WORD: sends WORD on the host side of the channel, expects "echo WORD".
channel_round_trip() {
    local reply
    reply=$(perl -MIO::Socket::UNIX -e '
        my ($path, $word) = @ARGV;
        my $s = IO::Socket::UNIX->new(Peer => $path) or die "connect $path: $!\n";
        local $SIG{ALRM} = sub { die "no reply within 10 s\n" };
        alarm 10;
        print $s "$word\n";
        my $line = <$s>;
        print $line;' "$1" "$2") || fail "channel round trip on $1"
    [[ "$reply" == "echo $2" ]] || fail "channel replied '$reply', expected 'echo $2'"
}

ping_guest() {
    ip netns exec "$netns" busybox ping -q -c 1 -W 5 "$guest_ip" > /dev/null || fail "no IPv4 ping reply from $1"
    ip netns exec "$netns" busybox ping6 -q -c 1 -W 5 "$guest_ip6" > /dev/null || fail "no IPv6 ping reply from $1"
}

# wait_for FILE TEXT SECONDS
wait_for() {
    local deadline=$((SECONDS + $3))
    until grep -q "$2" "$1" 2>/dev/null; do
        [[ $SECONDS -lt $deadline ]] || { tail -20 "$1" >&2 2>/dev/null; fail "'$2' not in $1 after $3 s"; }
        sleep 0.1
    done
}

kernel_args="tcpferry.ip=$guest_ip/24 tcpferry.ip6=$guest_ip6/64 tcpferry.gw=10.77.0.1 tcpferry.agent=0"

plain_qemu() {
    log "plain QEMU"
    "$here/qemu/run-guest.sh" start --netns "$netns" --bridge br0 --state "$work/qemu" \
        --image "$work/image" --initrd "$work/initrd-smoke.img" --mac 52:54:00:77:00:02 \
        --append "$kernel_args" > /dev/null
    timed "qemu: launch to 'tcpferry-guest ready'" "$here/qemu/run-guest.sh" wait-ready --state "$work/qemu" --timeout 90
    timings+=("qemu: guest uptime at ready: $(grep -o 'tcpferry-guest ready [0-9.]*s' "$work/qemu/console.log" | cut -d' ' -f3)")
    ping_guest "plain QEMU guest"
    local check
    for check in "nft ok" "cgroup2 ok" "channel device ok"; do
        grep -q "smoke-hook: $check" "$work/qemu/console.log" || fail "guest did not report $check"
    done
    timed "qemu: channel round trip" channel_round_trip "$work/qemu/agent.sock" plain
    "$here/qemu/run-guest.sh" stop --state "$work/qemu"
}

virsh_() {
    virsh -q -c "$uri" "$@"
}

libvirt_channel_round_trip() {
    local path
    path=$(virsh_ dumpxml "$domain" | sed -n "s/.*<source mode='bind' path='\([^']*$channel\)'.*/\1/p")
    [[ -n "$path" ]] || fail "no channel path in the live domain XML"
    channel_round_trip "$("$here/libvirt/host-rig.sh" host-path --state "$work/rig" "$path")" "$1"
}

under_libvirt() {
    log "libvirt"
    timed "libvirt: libvirtd start to first answer" \
        "$here/libvirt/host-rig.sh" start --netns "$netns" --state "$work/rig" --listen 10.77.0.1 > /dev/null
    uri=$("$here/libvirt/host-rig.sh" uri --state "$work/rig")
    "$here/libvirt/render-domain.sh" NAME="$domain" UUID="$(cat /proc/sys/kernel/random/uuid)" \
        MEMORY_MIB=512 KERNEL="$work/image/vmlinux" INITRD="$work/initrd-smoke.img" \
        CMDLINE="$(cat "$work/image/cmdline") $kernel_args" BRIDGE=br0 MAC=52:54:00:77:00:02 > "$work/domain.xml"
    virsh_ define "$work/domain.xml" > /dev/null
    local console="$work/rig/log/libvirt/qemu/$domain-console.log" t0
    t0=$(now_ms)
    virsh_ start "$domain" > /dev/null
    timings+=("libvirt: virsh start: $(($(now_ms) - t0)) ms")
    wait_for "$console" "tcpferry-guest ready" 90
    timings+=("libvirt: start to 'tcpferry-guest ready': $(($(now_ms) - t0)) ms")
    ping_guest "libvirt guest"
    libvirt_channel_round_trip started

    timed "libvirt: virsh suspend" virsh_ suspend "$domain" > /dev/null
    [[ "$(virsh_ domstate "$domain")" == paused ]] || fail "domain not paused after suspend"
    timed "libvirt: virsh resume" virsh_ resume "$domain" > /dev/null
    ping_guest "resumed guest"
    libvirt_channel_round_trip resumed

    timed "libvirt: virsh save" virsh_ save "$domain" "/var/lib/libvirt/$domain.save" > /dev/null
    [[ "$(virsh_ domstate "$domain")" == "shut off" ]] || fail "domain still running after save"
    timed "libvirt: virsh restore" virsh_ restore "/var/lib/libvirt/$domain.save" > /dev/null
    ping_guest "restored guest"
    # The restored QEMU has a new socket; the guest's echo loop kept running across the save.
    libvirt_channel_round_trip restored
    if $migrate; then
        migrate_to_second_host
    else
        virsh_ destroy "$domain" > /dev/null
        virsh_ undefine "$domain" > /dev/null
    fi
}

migrate_to_second_host() {
    log "migration"
    "$here/libvirt/host-rig.sh" start --netns "$netns2" --state "$work/rig2" --listen 10.77.0.12 > /dev/null
    timed "libvirt: virsh migrate --live --p2p" virsh_ migrate --live --p2p "$domain" qemu+tcp://10.77.0.12/system
    uri=$("$here/libvirt/host-rig.sh" uri --state "$work/rig2")
    [[ "$(virsh_ domstate "$domain")" == running ]] || fail "domain not running on the destination"
    ping_guest "migrated guest"
    local path
    path=$(virsh_ dumpxml "$domain" | sed -n "s/.*<source mode='bind' path='\([^']*$channel\)'.*/\1/p")
    timed "libvirt: channel round trip after migration" \
        channel_round_trip "$("$here/libvirt/host-rig.sh" host-path --state "$work/rig2" "$path")" migrated
    virsh_ destroy "$domain" > /dev/null
}

[[ $EUID -eq 0 ]] || fail "run as root"
timed "image: build.sh (cached when inputs are unchanged)" "$here/build.sh" "$work/image" 2> "$work/build.log" ||
    { cat "$work/build.log" >&2; fail "image build"; }
create_network
write_hook
plain_qemu
under_libvirt
