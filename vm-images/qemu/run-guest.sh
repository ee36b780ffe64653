#!/usr/bin/env bash
# Runs the tcpferry test guest under plain QEMU (no libvirt) inside a network namespace.
#
# TCG with -cpu max (this machine's /dev/kvm cannot run a normal guest kernel), 512 MiB, 1 vCPU,
# a virtio-net NIC on a tap that is a port of BRIDGE in NETNS, the agent's virtio-serial port
# org.tcpferry.agent.0 backed by the unix socket STATE/agent.sock (QEMU is the server; the host
# side connects), and the serial console written to STATE/console.log.
#
# Usage:
#   run-guest.sh start --netns NS --bridge BR --state DIR [--image DIR] [--initrd FILE]
#                      [--mac MAC] [--tap NAME] [--memory MIB] [--append "k=v ..."]
#       Starts QEMU in the background and returns; prints its pid. --append adds kernel
#       parameters (e.g. "tcpferry.ip=10.77.0.2/24 tcpferry.ip6=fd77::2/64 tcpferry.gw=10.77.0.1").
#       --initrd replaces the image's initrd (e.g. one made with overlay.sh).
#   run-guest.sh stop --state DIR
#       Stops that QEMU (by its pid file) and deletes its tap.
#   run-guest.sh wait-ready --state DIR [--timeout SECONDS]
#       Waits until the guest wrote "tcpferry-guest ready" on its console.
#
# STATE afterwards holds: qemu.pid, console.log, agent.sock, qmp.sock, netns, tap.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
agent_channel=org.tcpferry.agent.0

die() {
    echo "run-guest.sh: $*" >&2
    exit 1
}

command=${1:-}
shift || true
netns= bridge= state= image="$here/../out" initrd= mac= tap= memory=512 append= timeout=60
while [[ $# -gt 0 ]]; do
    case "$1" in
        --netns) netns=$2 ;;
        --bridge) bridge=$2 ;;
        --state) state=$2 ;;
        --image) image=$2 ;;
        --initrd) initrd=$2 ;;
        --mac) mac=$2 ;;
        --tap) tap=$2 ;;
        --memory) memory=$2 ;;
        --append) append=$2 ;;
        --timeout) timeout=$2 ;;
        *) die "unknown argument $1" ;;
    esac
    shift 2
done
[[ -n "$state" ]] || die "--state is required"

start() {
    [[ -n "$netns" && -n "$bridge" ]] || die "start needs --netns and --bridge"
    [[ -f "$image/vmlinux" ]] || die "no image in $image (run vm-images/build.sh)"
    mkdir -p "$state"
    state=$(cd "$state" && pwd)
    # A tap name is at most 15 characters; derive a stable one from the state directory.
    tap=${tap:-tfg$(echo "$state" | sha256sum | cut -c1-8)}
    mac=${mac:-52:54:00:$(echo "$state" | sha256sum | sed 's/^\(..\)\(..\)\(..\).*/\1:\2:\3/')}
    initrd=${initrd:-$image/initrd.img}
    echo "$netns" > "$state/netns"
    echo "$tap" > "$state/tap"
    rm -f "$state/console.log" "$state/agent.sock" "$state/qmp.sock"

    ip -n "$netns" tuntap add dev "$tap" mode tap
    ip -n "$netns" link set "$tap" master "$bridge" up

    ip netns exec "$netns" qemu-system-x86_64 \
        -name "tcpferry-guest,process=tcpferry-guest" \
        -accel tcg -cpu max -m "$memory" -smp 1 \
        -nodefaults -no-user-config -display none -no-reboot \
        -kernel "$image/vmlinux" -initrd "$initrd" \
        -append "$(cat "$image/cmdline") $append" \
        -netdev "tap,id=net0,ifname=$tap,script=no,downscript=no" \
        -device "virtio-net-pci,netdev=net0,mac=$mac" \
        -device virtio-serial-pci \
        -chardev "socket,id=agent0,path=$state/agent.sock,server=on,wait=off" \
        -device "virtserialport,chardev=agent0,name=$agent_channel" \
        -chardev "file,id=console0,path=$state/console.log" \
        -serial chardev:console0 \
        -qmp "unix:$state/qmp.sock,server=on,wait=off" \
        -pidfile "$state/qemu.pid" -daemonize
    cat "$state/qemu.pid"
}

stop() {
    local pid
    if [[ -f "$state/qemu.pid" ]]; then
        pid=$(cat "$state/qemu.pid")
        if kill "$pid" 2>/dev/null; then
            # QEMU exits promptly on SIGTERM; give it 5 s before forcing.
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -9 "$pid" 2>/dev/null || true
        fi
        rm -f "$state/qemu.pid"
    fi
    if [[ -f "$state/netns" && -f "$state/tap" ]]; then
        ip -n "$(cat "$state/netns")" link del "$(cat "$state/tap")" 2>/dev/null || true
    fi
}

wait_ready() {
    local deadline=$((SECONDS + timeout))
    until grep -q "tcpferry-guest ready" "$state/console.log" 2>/dev/null; do
        if [[ $SECONDS -ge $deadline ]]; then
            tail -20 "$state/console.log" >&2 2>/dev/null || true
            die "guest not ready after ${timeout}s"
        fi
        if [[ -f "$state/qemu.pid" ]] && ! kill -0 "$(cat "$state/qemu.pid")" 2>/dev/null; then
            tail -20 "$state/console.log" >&2 2>/dev/null || true
            die "QEMU exited"
        fi
        sleep 0.1
    done
}

case "$command" in
    start) start ;;
    stop) stop ;;
    wait-ready) wait_ready ;;
    *) die "usage: run-guest.sh start|stop|wait-ready --state DIR ..." ;;
esac
