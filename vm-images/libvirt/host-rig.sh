#!/usr/bin/env bash
# Runs a libvirtd "as a host" inside a network namespace, so that two or more of them on one
# machine behave like separate hypervisor hosts (for save/restore and migration tests).
#
# Each instance gets a private mount namespace in which its own directories under STATE are
# bind-mounted over /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt and
# /var/cache/libvirt; its own host_uuid; TCP listening without authentication on the given
# address (tests only: never on a real network); and its own hooks directory
# (STATE/etc/libvirt/hooks, seen by libvirtd as /etc/libvirt/hooks).
# libvirt 9.0 here runs without systemd: the monolithic libvirtd as a plain root process.
#
# Usage:
#   host-rig.sh start --netns NS --state DIR --listen ADDR [--uuid UUID] [--hooks DIR]
#       Starts libvirtd and waits until it answers (the first call probes QEMU: ~8 s).
#       --hooks DIR: files copied into the instance's hooks directory (e.g. an executable "qemu").
#   host-rig.sh stop --state DIR
#       Kills the libvirtd and every QEMU it started, then removes DIR.
#   host-rig.sh uri --state DIR          the local connection URI (unix socket, usable from anywhere)
#   host-rig.sh host-path --state DIR PATH
#       Translates a path as the instance sees it (e.g. a channel socket from the live domain
#       XML) into the path on the machine.
#   host-rig.sh enter --state DIR -- CMD...   runs CMD in the instance's network + mount namespace
set -euo pipefail

die() {
    echo "host-rig.sh: $*" >&2
    exit 1
}

# The directories each instance owns, as libvirtd sees them and under STATE.
bind_mounts=(
    "/etc/libvirt:etc/libvirt"
    "/run/libvirt:run/libvirt"
    "/var/lib/libvirt:lib/libvirt"
    "/var/log/libvirt:log/libvirt"
    "/var/cache/libvirt:cache/libvirt"
)

command=${1:-}
shift || true
netns= state= listen= uuid= hooks= rest=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --netns) netns=$2; shift 2 ;;
        --state) state=$2; shift 2 ;;
        --listen) listen=$2; shift 2 ;;
        --uuid) uuid=$2; shift 2 ;;
        --hooks) hooks=$2; shift 2 ;;
        --) shift; rest=("$@"); break ;;
        *) rest+=("$1"); shift ;;
    esac
done
[[ -n "$state" ]] || die "--state is required"
[[ "$state" = /* ]] || state="$(pwd)/$state"

uri() {
    echo "qemu:///system?socket=$state/run/libvirt/libvirt-sock"
}

write_config() {
    local etc="$state/etc/libvirt"
    # The daemon listens on TCP for migration peers; unix socket for local clients.
    cat > "$etc/libvirtd.conf" <<EOF
listen_tls = 0
listen_tcp = 1
listen_addr = "$listen"
auth_tcp = "none"
auth_unix_rw = "none"
auth_unix_ro = "none"
host_uuid = "$uuid"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
    # Root QEMU without cgroups, namespaces, relabelling or virtlogd: none of them is available
    # or wanted on these machines (no systemd, no AppArmor).
    cat > "$etc/qemu.conf" <<EOF
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
# Incoming migrations listen on, and are announced as, this host's LAN address (the machine's
# hostname would resolve outside the namespace).
migration_address = "$listen"
migration_host = "$listen"
EOF
    : > "$etc/libvirt.conf"
}

# The qemu driver refuses to start without this user even when QEMU runs as root.
ensure_qemu_user() {
    getent passwd libvirt-qemu > /dev/null ||
        useradd --system --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
}

start() {
    [[ -n "$netns" && -n "$listen" ]] || die "start needs --netns and --listen"
    [[ -e "/run/netns/$netns" ]] || die "no network namespace $netns"
    command -v libvirtd > /dev/null ||
        die "libvirtd missing: apt-get install --no-install-recommends libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients"
    ensure_qemu_user
    # libvirtd and QEMU talk to themselves over loopback in places (e.g. local migration checks).
    ip -n "$netns" link set lo up
    # host_uuid made of repeated digits is rejected, so a random one unless given.
    uuid=${uuid:-$(cat /proc/sys/kernel/random/uuid)}
    local pair
    for pair in "${bind_mounts[@]}"; do
        mkdir -p "${pair%%:*}" "$state/${pair#*:}"
    done
    mkdir -p "$state/etc/libvirt/hooks" "$state/log/libvirt/qemu"
    if [[ -n "$hooks" ]]; then
        cp -a "$hooks/." "$state/etc/libvirt/hooks/"
    fi
    write_config
    echo "$netns" > "$state/netns"

    local mounts=""
    for pair in "${bind_mounts[@]}"; do
        mounts+="mount --bind '$state/${pair#*:}' '${pair%%:*}' && "
    done
    # unshare without --fork: the shell and then libvirtd itself live in the new mount namespace;
    # libvirtd --daemon forks away and records its pid.
    nsenter --net="/run/netns/$netns" unshare --mount --propagation private \
        sh -c "${mounts} exec libvirtd --daemon --listen --pid-file '$state/libvirtd.pid' --config /etc/libvirt/libvirtd.conf"

    local deadline=$((SECONDS + 60))
    until virsh -q -c "$(uri)" version > /dev/null 2>&1; do
        [[ $SECONDS -lt $deadline ]] || die "libvirtd did not answer within 60 s (see $state/log/libvirt/libvirtd.log)"
        sleep 0.2
    done
    uri
}

stop() {
    [[ -d "$state" ]] || return 0
    local pid
    if [[ -f "$state/libvirtd.pid" ]]; then
        pid=$(cat "$state/libvirtd.pid")
        kill "$pid" 2>/dev/null || true
        wait_gone "$pid"
    fi
    # QEMU processes outlive libvirtd by design; the instance's pid files name them.
    for pidfile in "$state"/run/libvirt/qemu/*.pid; do
        [[ -f "$pidfile" ]] || continue
        pid=$(cat "$pidfile")
        [[ -n "$pid" ]] || continue
        kill "$pid" 2>/dev/null || true
        wait_gone "$pid"
    done
    rm -rf "$state"
}

wait_gone() {
    local pid=$1
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
}

host_path() {
    local path=${rest[0]:-} pair
    for pair in "${bind_mounts[@]}"; do
        if [[ "$path" == "${pair%%:*}"/* || "$path" == "${pair%%:*}" ]]; then
            echo "$state/${pair#*:}${path#"${pair%%:*}"}"
            return 0
        fi
    done
    echo "$path"
}

enter() {
    [[ ${#rest[@]} -gt 0 ]] || die "enter needs a command after --"
    nsenter --target "$(cat "$state/libvirtd.pid")" --net --mount -- "${rest[@]}"
}

case "$command" in
    start) start ;;
    stop) stop ;;
    uri) uri ;;
    host-path) host_path ;;
    enter) enter ;;
    *) die "usage: host-rig.sh start|stop|uri|host-path|enter --state DIR ..." ;;
esac
