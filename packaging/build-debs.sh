#!/usr/bin/env bash
# Builds tcpferry-host_<ver>_all.deb and tcpferry-agent_<ver>_all.deb with dpkg-deb from the Maven
# build of this checkout. See docs/host-manager.md, "Packages".
#
#   packaging/build-debs.sh [--out DIR] [--skip-build]
#
# --skip-build uses the jars already in host-manager/target and guest-agent/target (the test does).
# Layout (both packages): /opt/tcpferry/{bin,lib/host|lib/agent}; the host package adds /usr/bin/tcpferry,
# the systemd unit tcpferry-hostd.service, /etc/tcpferry/host.yaml (conffile), the libvirt hooks in
# /opt/tcpferry/libvirt-hooks (installed into libvirt by `tcpferry install-hooks`) and bash completion.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/packaging/target"
build=1
while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        --skip-build) build=0; shift ;;
        *) echo "usage: $0 [--out DIR] [--skip-build]" >&2; exit 2 ;;
    esac
done

if [[ $build == 1 ]]; then
    (cd "$root" && mvn -q -B -pl host-manager,guest-agent -am install -DskipTests)
fi

# 0.1.0-SNAPSHOT -> 0.1.0~SNAPSHOT: "~" sorts before the release in Debian version order.
version="$(sed -n 's|^  <version>\(.*\)</version>|\1|p' "$root/pom.xml" | head -1)"
debversion="${version//-/\~}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Copies a module's jar and its runtime classpath into DIR.
stage_jars() { # module dir
    local module="$1" dir="$2" jar
    mkdir -p "$dir"
    jar="$(ls "$root/$module/target/"tcpferry-*-"$version".jar)"
    cp "$jar" "$dir/"
    # The file has no final newline: the last entry would be lost to `read`, so split with a loop over words.
    local deps
    IFS=':' read -r -a deps < "$root/$module/target/runtime-classpath.txt" || true
    for dep in "${deps[@]}"; do
        [[ -n "$dep" ]] && cp "$dep" "$dir/"
    done
}

# A launcher that runs MAIN with every jar of LIBDIR.
launcher() { # file libdir main
    cat > "$1" <<LAUNCHER
#!/bin/sh
# Installed by the tcpferry package. TCPFERRY_JAVA_OPTS adds JVM options (after the defaults, so
# it can override them). C1 only: the work is system calls in bursts, and C2 compiling during a
# burst took a third of its CPU (docs/benchmarks.md).
exec java -XX:TieredStopAtLevel=1 \${TCPFERRY_JAVA_OPTS:-} -cp "$2/*" $3 "\$@"
LAUNCHER
    chmod 0755 "$1"
}

control() { # file package depends description
    cat > "$1" <<CONTROL
Package: $2
Version: $debversion
Architecture: all
Maintainer: tcpferry maintainers <tcpferry@localhost>
Section: net
Priority: optional
Depends: $3
Description: $4
CONTROL
}

# --- tcpferry-host ---
host="$work/host"
stage_jars host-manager "$host/opt/tcpferry/lib/host"
mkdir -p "$host/opt/tcpferry/bin" "$host/usr/bin" "$host/lib/systemd/system" "$host/etc/tcpferry" \
    "$host/opt/tcpferry/libvirt-hooks" "$host/usr/share/bash-completion/completions" "$host/DEBIAN"
launcher "$host/opt/tcpferry/bin/tcpferry" /opt/tcpferry/lib/host org.tcpferry.host.cli.TcpferryCommand
ln -s ../../opt/tcpferry/bin/tcpferry "$host/usr/bin/tcpferry"
install -m 0644 "$root/packaging/host/tcpferry-hostd.service" "$host/lib/systemd/system/"
install -m 0644 "$root/packaging/host/host.yaml" "$host/etc/tcpferry/host.yaml"
install -m 0755 "$root/libvirt-hooks/qemu" "$root/libvirt-hooks/install.sh" "$host/opt/tcpferry/libvirt-hooks/"
install -m 0644 "$root/libvirt-hooks/hook.conf" "$host/opt/tcpferry/libvirt-hooks/"
ln -s qemu "$host/opt/tcpferry/libvirt-hooks/libxl"
# Completion generated from the command model of the jars being packaged.
java -cp "$host/opt/tcpferry/lib/host/*" org.tcpferry.host.cli.TcpferryCommand completion bash \
    > "$host/usr/share/bash-completion/completions/tcpferry"
control "$host/DEBIAN/control" tcpferry-host \
    "default-jre-headless (>= 2:1.17) | java17-runtime-headless, nftables, iproute2, libvirt0, perl-base" \
    "tcpferry host manager: holds a VM's TCP connections while it is suspended or migrating
 The tcpferry CLI (save, restore, migrate, handoff, reclaim, status, setup-domain), the host
 manager daemon (tcpferry-hostd.service) and its libvirt hook."
echo /etc/tcpferry/host.yaml > "$host/DEBIAN/conffiles"
install -m 0755 "$root/packaging/host/postinst" "$host/DEBIAN/postinst"
dpkg-deb --root-owner-group -Zgzip --build "$host" "$out/tcpferry-host_${debversion}_all.deb" >/dev/null

# --- tcpferry-agent ---
agent="$work/agent"
stage_jars guest-agent "$agent/opt/tcpferry/lib/agent"
mkdir -p "$agent/opt/tcpferry/bin" "$agent/lib/systemd/system/tcpferry-agent.service.d" "$agent/etc/default" "$agent/DEBIAN"
launcher "$agent/opt/tcpferry/bin/tcpferry-agent" /opt/tcpferry/lib/agent org.tcpferry.agent.cli.AgentMain
install -m 0644 "$root/guest-agent/src/main/dist/tcpferry-agent.service" "$agent/lib/systemd/system/"
install -m 0644 "$root/packaging/agent/environment.conf" "$agent/lib/systemd/system/tcpferry-agent.service.d/"
install -m 0644 "$root/packaging/agent/tcpferry-agent.default" "$agent/etc/default/tcpferry-agent"
control "$agent/DEBIAN/control" tcpferry-agent \
    "default-jre-headless (>= 2:1.17) | java17-runtime-headless, nftables" \
    "tcpferry guest agent: hands a VM's TCP connections to its host and takes them back
 Runs inside the guest, talks to the host through the org.tcpferry.agent.0 virtio-serial port."
echo /etc/default/tcpferry-agent > "$agent/DEBIAN/conffiles"
dpkg-deb --root-owner-group -Zgzip --build "$agent" "$out/tcpferry-agent_${debversion}_all.deb" >/dev/null

echo "$out/tcpferry-host_${debversion}_all.deb"
echo "$out/tcpferry-agent_${debversion}_all.deb"
