#!/bin/sh
# Installs (or removes) the tcpferry libvirt hook. See docs/libvirt.md.
#
#   install.sh [--prefix DIR] [--libxl]        install
#   install.sh [--prefix DIR] --uninstall [--purge]
#
# Installs libvirt-hooks/qemu as PREFIX/etc/libvirt/hooks/qemu.d/50-tcpferry (libvirt >= 6.5 runs
# every executable in qemu.d, after the main "qemu" script, in alphabetical order), and as
# PREFIX/etc/libvirt/hooks/libxl.d/50-tcpferry when that directory exists or --libxl is given.
# Creates PREFIX/etc/tcpferry/hook.conf only if absent (an admin's edits are kept) and the log
# directory PREFIX/var/log/tcpferry. --uninstall removes the hooks; --purge also the config.
# libvirtd looks for hook scripts when it starts (and on SIGHUP): restart or signal it afterwards.
set -eu

prefix=/
action=install
purge=no
libxl=no
usage() {
    echo "usage: $0 [--prefix DIR] [--libxl] | [--prefix DIR] --uninstall [--purge]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#--prefix=}; shift ;;
        --uninstall) action=uninstall; shift ;;
        --purge) purge=yes; shift ;;
        --libxl) libxl=yes; shift ;;
        -h|--help) usage ;;
        *) echo "unknown argument: $1" >&2; usage ;;
    esac
done
[ "$purge" = no ] || [ "$action" = uninstall ] || { echo "--purge only goes with --uninstall" >&2; usage; }

here=$(cd "$(dirname "$0")" && pwd)
root=${prefix%/}
hooks=$root/etc/libvirt/hooks
conf=$root/etc/tcpferry/hook.conf
name=50-tcpferry
# Only files that carry this line are ours to replace or remove.
marker='tcpferry libvirt hook'

ours() {
    [ -f "$1" ] && grep -q "$marker" "$1"
}

install_hook() {
    dir=$1
    target=$dir/$name
    if [ -e "$target" ] && ! ours "$target"; then
        echo "refusing to overwrite $target: not a tcpferry hook" >&2
        exit 1
    fi
    mkdir -p "$dir"
    # Copy to a temporary name and rename, so libvirt never runs a half-written script.
    cp "$here/qemu" "$dir/.$name.tmp"
    chmod 0755 "$dir/.$name.tmp"
    mv -f "$dir/.$name.tmp" "$target"
    echo "installed $target"
}

remove_hook() {
    target=$1/$name
    if ours "$target"; then
        rm -f "$target"
        echo "removed $target"
    elif [ -e "$target" ]; then
        echo "left $target alone: not a tcpferry hook" >&2
    fi
}

case "$action" in
    install)
        install_hook "$hooks/qemu.d"
        if [ "$libxl" = yes ] || [ -d "$hooks/libxl.d" ]; then
            install_hook "$hooks/libxl.d"
        fi
        if [ -e "$conf" ]; then
            echo "kept $conf"
        else
            mkdir -p "$(dirname "$conf")"
            cp "$here/hook.conf" "$conf"
            chmod 0644 "$conf"
            echo "created $conf"
        fi
        mkdir -p "$root/var/log/tcpferry"
        chmod 0750 "$root/var/log/tcpferry"
        echo "restart libvirtd (or send it SIGHUP) so that it runs the new hook"
        ;;
    uninstall)
        remove_hook "$hooks/qemu.d"
        remove_hook "$hooks/libxl.d"
        if [ "$purge" = yes ] && [ -e "$conf" ]; then
            rm -f "$conf"
            echo "removed $conf"
        fi
        ;;
esac
