#!/usr/bin/env bash
# Builds the tcpferry test guest image: an uncompressed vmlinux (booted by QEMU through PVH) and an
# initramfs with busybox, a jlink'ed JRE 17 with a CDS archive, nft, ip, the kernel modules the
# guest needs, /init, and the guest agent when it has been built.
#
# Everything in the guest comes from Debian 12 packages fetched with `apt-get download` and
# unpacked with `dpkg-deb -x` (nothing is installed into the host), except the JRE, which jlink
# cuts out of the host's JDK 17. The result is cached under vm-images/cache/images/KEY where KEY
# hashes every input (package files and checksums, these scripts, the JDK, the agent jars), so
# a second run costs seconds.
#
# Usage: build.sh [OUTDIR]              build (or reuse) the image; OUTDIR gets vmlinux, initrd.img,
#                                       cmdline and manifest.txt (default: vm-images/out)
#        build.sh --print-host-packages  the Debian packages the host needs (for bin/test-all)
#        build.sh --install-host-packages
#
# Environment: TCPFERRY_AGENT_MAIN  the agent's main class (default: the jar's Main-Class, else
#                                   DEFAULT_AGENT_MAIN below)
#              TCPFERRY_AGENT_ARGS  the agent's arguments (default: DEFAULT_AGENT_ARGS below)
set -euo pipefail

# --- The one list of host packages: this script, qemu/run-guest.sh, libvirt/host-rig.sh, smoke.sh.
HOST_APT_PACKAGES=(
    qemu-system-x86 busybox-static cpio gzip xz-utils zstd binutils unzip
    openjdk-17-jdk-headless nftables iproute2
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
)

# --- What goes into the guest.
# Shared libraries are not listed one by one: the build copies the DT_NEEDED closure of every ELF
# file in the image out of these packages and fails naming any library it cannot find.
GUEST_DEB_PACKAGES=(
    busybox-static nftables iproute2
    libc6 libgcc-s1 libstdc++6 zlib1g libbpf1 libbsd0 libcap2 libedit2 libelf1 libgmp10
    libjansson4 libmd0 libmnl0 libnftables1 libnftnl11 libtinfo6 libxtables12
)
KERNEL_METAPACKAGE=linux-image-amd64
# Loaded by /init in dependency order (dependencies found from each module's .modinfo).
# tcp_diag (with inet_diag): the agent lists TCP sockets through sock_diag and refuses to start
# without it ("MISSING SOCK_DIAG ... ENOENT").
GUEST_MODULES=(virtio_pci virtio_net virtio_console nf_tables tcp_diag)
# java.xml: logback parses its logback.xml; java.sql: Jackson's date handlers (jdeps on the agent's
# classpath also names java.desktop, only for optional java.beans support: left out, 12 MB).
JRE_MODULES=java.base,java.logging,java.management,jdk.unsupported,java.naming,jdk.crypto.ec,java.xml,java.sql
KERNEL_CMDLINE="console=ttyS0 panic=1 quiet mitigations=off"
# How /opt/tcpferry/start-agent runs the agent (the same command line as its systemd unit).
DEFAULT_AGENT_MAIN=org.tcpferry.agent.cli.AgentMain
DEFAULT_AGENT_ARGS="run --channel /dev/virtio-ports/org.tcpferry.agent.0 --journal /run/tcpferry-agent/journal"

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache="$here/cache"
java_home=$(dirname "$(dirname "$(readlink -f "$(command -v jlink || echo /usr/lib/jvm/java-17-openjdk-amd64/bin/jlink)")")")

log() {
    echo "build.sh: $*" >&2
}

die() {
    log "error: $*"
    exit 1
}

install_host_packages() {
    local missing=() package
    for package in "${HOST_APT_PACKAGES[@]}"; do
        [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" == "install ok installed" ]] || missing+=("$package")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        log "installing host packages: ${missing[*]}"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

case "${1:-}" in
    --print-host-packages) echo "${HOST_APT_PACKAGES[*]}"; exit 0 ;;
    --install-host-packages) install_host_packages; exit 0 ;;
    -*) die "unknown option $1" ;;
esac
outdir=$(mkdir -p "${1:-$here/out}" && cd "${1:-$here/out}" && pwd)

# --- Inputs ---------------------------------------------------------------------------------

# Agent jars: the guest-agent module's jar and its runtime classpath, if the module has classes yet.
agent_jars=()
agent_staging=
work=
trap 'rm -rf "$agent_staging" "$work"' EXIT
find_agent_jars() {
    local target="$repo/guest-agent/target" jar
    jar=$(ls "$target"/tcpferry-guest-agent-*.jar 2>/dev/null | grep -v -e sources -e javadoc | head -1 || true)
    # (grep -c, not grep -q: an early exit would make unzip fail on SIGPIPE under pipefail)
    if [[ -z "$jar" ]] || [[ "$(unzip -Z1 "$jar" 2>/dev/null | grep -c '\.class$')" -eq 0 ]]; then
        log "guest agent not built yet (no classes in guest-agent/target): image without agent"
        return 0
    fi
    local sources=("$jar")
    if [[ -f "$target/runtime-classpath.txt" ]]; then
        local IFS=:
        for jar in $(cat "$target/runtime-classpath.txt"); do
            [[ -f "$jar" ]] || die "agent classpath entry missing: $jar (build guest-agent first)"
            sources+=("$jar")
        done
    fi
    # Copied first, then hashed and used: a concurrent Maven build may rewrite target/ meanwhile.
    agent_staging=$(mktemp -d "$cache/agent.XXXXXX")
    cp "${sources[@]}" "$agent_staging/"
    for jar in "${sources[@]}"; do
        agent_jars+=("$agent_staging/$(basename "$jar")")
    done
}

agent_main_class() {
    local from_manifest
    from_manifest=$(unzip -p "${agent_jars[0]}" META-INF/MANIFEST.MF | tr -d '\r' | sed -n 's/^Main-Class: *//p')
    if [[ -n "${TCPFERRY_AGENT_MAIN:-}" ]]; then
        echo "$TCPFERRY_AGENT_MAIN"
    elif [[ -n "$from_manifest" ]]; then
        echo "$from_manifest"
    elif [[ "$(unzip -Z1 "${agent_jars[0]}" | grep -cx "${DEFAULT_AGENT_MAIN//.//}.class")" -gt 0 ]]; then
        echo "$DEFAULT_AGENT_MAIN"
    fi
}

# apt-get download --print-uris names each .deb with its version and checksum without fetching it.
# Asking apt costs seconds, so the answer is kept until the package lists change.
resolve_packages() {
    local lists_state answer
    lists_state=$( (ls -l --time-style=+%s /var/lib/apt/lists/ /var/cache/apt/pkgcache.bin 2>/dev/null
        echo "$KERNEL_METAPACKAGE ${GUEST_DEB_PACKAGES[*]}") | sha256sum | cut -c1-16)
    answer="$cache/resolved/$lists_state"
    if [[ ! -s "$answer" ]]; then
        mkdir -p "$cache/resolved"
        ask_apt > "$answer.tmp"
        mv "$answer.tmp" "$answer"
    fi
    cat "$answer"
}

ask_apt() {
    local kernel
    kernel=$(apt-cache depends "$KERNEL_METAPACKAGE" | awk '/Depends: linux-image-/ {print $2; exit}')
    [[ -n "$kernel" ]] || die "cannot resolve $KERNEL_METAPACKAGE (apt-get update?)"
    apt-get download --print-uris "$kernel" "${GUEST_DEB_PACKAGES[@]}" | tr -d "'" | sort -k2
}

cache_key() {
    {
        echo "packages:"; echo "$package_list"
        echo "modules: ${GUEST_MODULES[*]} jre: $JRE_MODULES cmdline: $KERNEL_CMDLINE"
        echo "jdk: $(readlink -f "$java_home") $(dpkg-query -W -f='${Version}' openjdk-17-jdk-headless 2>/dev/null)"
        cat "$java_home/release"; stat -c '%s %Y' "$java_home/lib/modules"
        (cd "$here" && sha256sum build.sh lib/*.sh guest/*)
        echo "agent main: ${TCPFERRY_AGENT_MAIN:-$DEFAULT_AGENT_MAIN} args: ${TCPFERRY_AGENT_ARGS:-$DEFAULT_AGENT_ARGS}"
        local jar
        for jar in "${agent_jars[@]}"; do
            echo "agent $(basename "$jar") $(sha256sum < "$jar" | cut -d' ' -f1)"
        done
    } | sha256sum | cut -c1-16
}

publish() {
    local image=$1 file
    touch "$image"
    for file in vmlinux initrd.img cmdline manifest.txt; do
        ln -f "$image/$file" "$outdir/$file" 2>/dev/null || cp -f "$image/$file" "$outdir/$file"
    done
    log "image $(basename "$image") in $outdir"
}

# --- Build steps ------------------------------------------------------------------------------

download_debs() {
    mkdir -p "$cache/debs"
    local uri file size sum wanted=()
    # Checksums are verified after download; a cached file only has to have the right size.
    while read -r uri file size sum; do
        if [[ "$(stat -c %s "$cache/debs/$file" 2>/dev/null)" != "$size" ]]; then
            wanted+=("$(basename "${file%%_*}")=$(echo "$file" | cut -d_ -f2 | sed 's/%3a/:/')")
        fi
    done <<< "$package_list"
    if [[ ${#wanted[@]} -gt 0 ]]; then
        log "downloading ${#wanted[@]} packages"
        (cd "$cache/debs" && apt-get download -q -o APT::Sandbox::User=root "${wanted[@]}" > /dev/null)
        while read -r uri file size sum; do
            echo "${sum#SHA256:}  $cache/debs/$file" | sha256sum -c --status || die "checksum mismatch: $file"
        done <<< "$package_list"
    fi
}

# The unpacked packages are kept per package set: unpacking the kernel's modules is the slow part.
unpack_debs() {
    debroot="$cache/unpacked/$(sha256sum <<< "$package_list" | cut -c1-16)"
    [[ -f "$debroot/.complete" ]] && return 0
    rm -rf "$debroot"
    mkdir -p "$debroot"
    local file
    for file in $(awk '{print $2}' <<< "$package_list"); do
        dpkg-deb -x "$cache/debs/$file" "$debroot"
    done
    touch "$debroot/.complete"
}

# Echoes module paths (relative to lib/modules/VERSION) dependencies first, each once.
module_load_order() {
    local moddir=$1
    shift
    local -A seen=()
    visit() {
        local name=${1//-/_} file deps dep
        [[ -n "${seen[$name]:-}" ]] && return 0
        seen[$name]=1
        file=$(find "$moddir/kernel" -name "$name.ko" -o -name "${name//_/-}.ko" | head -1)
        [[ -n "$file" ]] || die "kernel module $name not found"
        deps=$(tr '\0' '\n' < "$file" | sed -n 's/^depends=//p' | head -1)
        for dep in ${deps//,/ }; do
            visit "$dep"
        done
        # A "softdep=pre:" names what modprobe would load first; libcrc32c's init fails without
        # the crc32c algorithm, which is only known by its alias.
        deps=$(tr '\0' '\n' < "$file" | sed -n 's/^softdep=pre: *//p' | head -1)
        for dep in $deps; do
            visit "$(module_by_alias "$dep")"
        done
        echo "${file#$moddir/}"
    }
    module_by_alias() {
        if [[ -n "$(find "$moddir/kernel" -name "$1.ko" | head -1)" ]]; then
            echo "$1"
            return 0
        fi
        local file
        # Prefer the generic implementation over an arch-specific one that may lack CPU support.
        file=$(cd "$moddir/kernel" && grep -rlaP "\x00alias=$1\x00" --include='*.ko' . | sort | grep -v '^./arch/' | head -1)
        [[ -n "$file" ]] || die "no kernel module provides $1"
        basename "$file" .ko
    }
    local module
    for module in "$@"; do
        visit "$module"
    done
}

install_kernel() {
    local vmlinuz moddir version
    vmlinuz=$(ls "$debroot"/boot/vmlinuz-* | head -1)
    version=${vmlinuz##*/vmlinuz-}
    moddir="$debroot/lib/modules/$version"
    [[ -f "$debroot/vmlinux" ]] || "$here/lib/extract-vmlinux.sh" "$vmlinuz" "$debroot/vmlinux"
    cp "$debroot/vmlinux" "$work/vmlinux"
    mkdir -p "$root/lib/modules"
    # Resolving aliases reads every module of the kernel: kept with the unpacked packages.
    local order="$debroot/load-order.$(echo "${GUEST_MODULES[*]}" | sha256sum | cut -c1-16)"
    if [[ ! -f "$order" ]]; then
        module_load_order "$moddir" "${GUEST_MODULES[@]}" > "$order.tmp"
        mv "$order.tmp" "$order"
    fi
    cp "$order" "$work/load-order"
    local module
    while read -r module; do
        cp "$moddir/$module" "$root/lib/modules/$(basename "$module")"
    done < "$work/load-order"
    xargs -n1 basename < "$work/load-order" > "$root/lib/modules/load-order"
    echo "kernel $version, modules: $(tr '\n' ' ' < "$root/lib/modules/load-order")" >> "$work/manifest.txt"
}

install_busybox() {
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin}
    cp "$debroot/bin/busybox" "$root/bin/busybox"
    # One process instead of one `ln` per applet; busybox is static, so it runs in the bare root.
    chroot "$root" /bin/busybox --install -s
}

install_tools() {
    cp "$debroot/usr/sbin/nft" "$root/usr/sbin/nft"
    rm -f "$root/sbin/ip" "$root/bin/ip"
    cp "$debroot/bin/ip" "$root/sbin/ip"
    mkdir -p "$root/etc"
    cp -r "$debroot/etc/iproute2" "$root/etc/iproute2"
}

# The JRE depends only on the host's JDK and the module list: kept per JDK in the cache.
install_jre() {
    local jre="$cache/jre/$(cat "$java_home/release" "$java_home/lib/modules" <(echo "$JRE_MODULES") | sha256sum | cut -c1-16)"
    if [[ ! -f "$jre/.complete" ]]; then
        rm -rf "$jre"
        mkdir -p "$(dirname "$jre")"
        "$java_home/bin/jlink" --add-modules "$JRE_MODULES" --strip-debug --no-man-pages \
            --no-header-files --generate-cds-archive --output "$jre" > /dev/null
        # The archive for uncompressed oops only serves heaps above 32 GB.
        rm -f "$jre/lib/server/classes_nocoops.jsa"
        touch "$jre/.complete"
    fi
    mkdir -p "$root/opt"
    cp -a "$jre" "$root/opt/java"
    rm "$root/opt/java/.complete"
    echo "jre: $("$root/opt/java/bin/java" -version 2>&1 | head -1), modules $JRE_MODULES" >> "$work/manifest.txt"
}

install_agent() {
    mkdir -p "$root/opt/tcpferry/guest-init.d" "$root/etc/tcpferry"
    if [[ ${#agent_jars[@]} -eq 0 ]]; then
        echo "agent: not included (guest-agent not built)" >> "$work/manifest.txt"
        return 0
    fi
    local main
    main=$(agent_main_class)
    mkdir -p "$root/opt/tcpferry/lib"
    cp "${agent_jars[@]}" "$root/opt/tcpferry/lib/"
    # The class-data archive records each jar's mtime: give them the image's final mtime now.
    touch -d @0 "$root"/opt/tcpferry/lib/*.jar
    if [[ -z "$main" ]]; then
        log "agent jars included but no main class (no Main-Class, TCPFERRY_AGENT_MAIN unset): agent not started"
        echo "agent: jars included, not started (no main class)" >> "$work/manifest.txt"
        return 0
    fi
    cp "$here/guest/start-agent" "$root/opt/tcpferry/start-agent"
    {
        echo "AGENT_MAIN='$main'"
        echo "AGENT_ARGS='${TCPFERRY_AGENT_ARGS:-$DEFAULT_AGENT_ARGS}'"
        # Explicit and sorted, not lib/*: the archive only applies to the exact class path it was
        # dumped with, and a wildcard expands in directory order.
        echo "AGENT_CLASSPATH='$(agent_classpath)'"
        echo "JAVA_OPTS=''"
    } > "$root/opt/tcpferry/agent.conf"
    echo "agent: $main, jars: $(cd "$root/opt/tcpferry/lib" && ls | tr '\n' ' ')" >> "$work/manifest.txt"
}

install_base_files() {
    mkdir -p "$root"/{proc,sys,dev,run,tmp,root,etc,var/log}
    ln -sfn ../run "$root/var/run"
    cp "$here/guest/init" "$root/init"
    echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
    echo 'root:x:0:' > "$root/etc/group"
    printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"
    echo 'hosts: files' > "$root/etc/nsswitch.conf"
    printf 'export PS1="\\h:\\w# "\nexport PATH=/usr/sbin:/usr/bin:/sbin:/bin:/opt/java/bin\n' > "$root/etc/profile"
}

agent_classpath() {
    (cd "$root/opt/tcpferry/lib" && ls | LC_ALL=C sort | sed 's|^|/opt/tcpferry/lib/|' | paste -sd:)
}

# Application class-data sharing for the agent: under TCG loading and verifying the Jackson,
# logback, picocli and JNA classes is a good part of the agent's start (measured from guest ready to
# channel open: 14-19 s without, 10-11 s with the archive). A static archive of the
# JDK's default class list plus every class in the agent's jars is dumped with the image's own JRE,
# chrooted into the image so that the paths are the guest's (the agent is not run for this).
install_agent_cds() {
    [[ -f "$root/opt/tcpferry/agent.conf" ]] || return 0
    local jar
    {
        grep -v -e '^#' -e '^@' "$root/opt/java/lib/classlist"
        for jar in "$root"/opt/tcpferry/lib/*.jar; do
            unzip -Z1 "$jar" | grep '\.class$' | grep -v -e '^META-INF/' -e 'module-info' | sed 's/\.class$//'
        done
    } > "$root/tmp/agent.classlist"
    # JDK 17 does not dump archives byte-for-byte reproducibly: keep one per JRE and jar set, so
    # that a rebuild from the same inputs gives the same image.
    local cds_key cached
    cds_key=$( (cd "$root/opt" && sha256sum java/release java/lib/server/libjvm.so java/lib/modules tcpferry/lib/*.jar) |
        sha256sum | cut -c1-16)
    cached="$cache/agent-cds/$cds_key.jsa"
    if [[ -f "$cached" ]]; then
        touch "$cached"
        cp "$cached" "$root/opt/tcpferry/agent.jsa"
        sed -i "s|^JAVA_OPTS=.*|JAVA_OPTS='-XX:SharedArchiveFile=/opt/tcpferry/agent.jsa'|" "$root/opt/tcpferry/agent.conf"
        echo "agent cds: $(du -h "$cached" | cut -f1) (cached)" >> "$work/manifest.txt"
        rm -rf "${root:?}"/tmp/*
        return 0
    fi
    # ld.so resolves the JRE's $ORIGIN runpath through /proc/self/exe: /proc inside the chroot.
    if unshare --mount --propagation private sh -c "mount -t proc proc '$root/proc' &&
        exec chroot '$root' /opt/java/bin/java -XX:-UsePerfData -Xshare:dump -XX:SharedClassListFile=/tmp/agent.classlist \
            -XX:SharedArchiveFile=/opt/tcpferry/agent.jsa -cp '$(agent_classpath)'" > "$work/cds.log" 2>&1; then
        sed -i "s|^JAVA_OPTS=.*|JAVA_OPTS='-XX:SharedArchiveFile=/opt/tcpferry/agent.jsa'|" "$root/opt/tcpferry/agent.conf"
        echo "agent cds: $(du -h "$root/opt/tcpferry/agent.jsa" | cut -f1), $(grep -c 'Skipping' "$work/cds.log") classes skipped" >> "$work/manifest.txt"
        mkdir -p "$cache/agent-cds"
        cp "$root/opt/tcpferry/agent.jsa" "$cached"
    else
        # The agent still starts without it, only slower: say so loudly, do not fail the image.
        log "warning: agent class-data archive not created (see below); the agent will start slower"
        tail -5 "$work/cds.log" >&2
        echo "agent cds: FAILED" >> "$work/manifest.txt"
    fi
    rm -rf "${root:?}"/tmp/*
}

# Copies every shared library that an ELF file in the image needs, transitively, from the
# unpacked packages.
install_library_closure() {
    local libdirs=(lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu)
    local target="$root/lib/x86_64-linux-gnu"
    mkdir -p "$target" "$root/lib64"
    ln -sfn /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"
    cp -L "$debroot/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$target/"
    # Libraries the JDK ships find each other through their RUNPATH inside /opt/java.
    local -A present=()
    local name
    for name in $(cd "$root/opt/java/lib" && find . -name '*.so' -printf '%f\n'); do
        present[$name]=1
    done
    # Each pass reads the dynamic sections of the files added by the previous one.
    local files needed dir found
    files=$(find "$root" -type f \( -perm -u+x -o -name '*.so*' \) -not -name '*.jsa' | sort)
    while [[ -n "$files" ]]; do
        local added=()
        # shellcheck disable=SC2086 # one name per line, no blanks in the image's paths
        for needed in $(readelf -d $files 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u); do
            [[ -n "${present[$needed]:-}" || -e "$target/$needed" ]] && continue
            found=
            for dir in "${libdirs[@]}"; do
                if [[ -e "$debroot/$dir/$needed" ]]; then
                    found="$debroot/$dir/$needed"
                    break
                fi
            done
            [[ -n "$found" ]] || die "library $needed is in none of GUEST_DEB_PACKAGES"
            cp -L "$found" "$target/$needed"
            added+=("$target/$needed")
        done
        files="${added[*]:-}"
    done
}

# Same bytes for the same inputs: sorted names, fixed times and owners.
# Uncompressed: gzip or zstd made boots no faster under TCG (less to load, more to inflate).
pack_initramfs() {
    find "$root" -exec touch -h -d @0 {} +
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
        cpio --quiet -o -H newc --owner 0:0 --reproducible) > "$work/initrd.img"
}

# Runs one build step and logs how long it took.
step() {
    local t0=$(date +%s%N)
    "$@"
    log "$1: $((($(date +%s%N) - t0) / 1000000)) ms"
}

build_image() {
    local image="$cache/images/$key"
    work=$(mktemp -d "$cache/build.XXXXXX")
    root="$work/root"
    mkdir -p "$root"
    {
        echo "tcpferry guest image $key"
        echo "packages:"
        awk '{print "  " $2}' <<< "$package_list"
    } > "$work/manifest.txt"
    step download_debs
    step unpack_debs
    step install_base_files
    step install_busybox
    step install_tools
    step install_kernel
    step install_jre
    step install_agent
    step install_library_closure
    step install_agent_cds
    step pack_initramfs
    echo "$KERNEL_CMDLINE" > "$work/cmdline"
    echo "initrd: $(du -h "$work/initrd.img" | cut -f1), vmlinux: $(du -h "$work/vmlinux" | cut -f1)" >> "$work/manifest.txt"
    mkdir -p "$image.tmp"
    mv "$work/vmlinux" "$work/initrd.img" "$work/cmdline" "$work/manifest.txt" "$image.tmp/"
    rm -rf "$image"
    mv "$image.tmp" "$image"
}

started=$(date +%s%N)
install_host_packages
mkdir -p "$cache"
# One build at a time per checkout: parallel test runs would otherwise race on the same image.
exec 9> "$cache/.lock"
flock 9
find_agent_jars
package_list=$(resolve_packages)
key=$(cache_key)
mkdir -p "$cache/images"
if [[ -f "$cache/images/$key/initrd.img" ]]; then
    log "cached image $key"
else
    log "building image $key"
    build_image
fi
publish "$cache/images/$key"
# Each image is ~140 MB and each agent archive 26 MB: keep the three most recently used.
ls -1dt "$cache"/images/*/ | tail -n +4 | xargs -r rm -rf
ls -1t "$cache"/agent-cds/*.jsa 2>/dev/null | tail -n +4 | xargs -r rm -f
elapsed_ms=$((($(date +%s%N) - started) / 1000000))
log "done in $((elapsed_ms / 1000)).$(printf '%03d' $((elapsed_ms % 1000))) s"
