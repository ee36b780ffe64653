# Installs the tcpferry .debs with dpkg -i as an operator would on this Debian 12 machine, then
# uses and purges them, all inside a private mount namespace (run under `unshare --mount
# --propagation private`) where /usr, /etc, /var and /opt are overlays on a tmpfs: the machine's
# own files and dpkg database are never changed, and everything vanishes with the namespace.
#
#   install-in-overlay.sh SCRATCH-DIR HOST-DEB AGENT-DEB
set -euo pipefail
scratch=$1 host=$2 agent=$3
mount -t tmpfs tcpferry-pkg "$scratch"
for d in usr etc var opt; do
  mkdir -p "/$d" "$scratch/$d-up" "$scratch/$d-work"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$scratch/$d-up,workdir=$scratch/$d-work" "/$d"
done
echo "== dpkg -i"
dpkg -i "$host" "$agent"
dpkg-query -W -f='${Package} ${Status}\n' tcpferry-host tcpferry-agent
echo "== the commands on PATH"
tcpferry --help
tcpferry migrate --help
/opt/tcpferry/bin/tcpferry-agent --help
echo "== units, configuration, completion"
ls /lib/systemd/system/tcpferry-hostd.service /lib/systemd/system/tcpferry-agent.service \
   /etc/tcpferry/host.yaml /etc/default/tcpferry-agent /usr/share/bash-completion/completions/tcpferry
echo "== the libvirt hook, installed from the package"
/opt/tcpferry/libvirt-hooks/install.sh
test -x /etc/libvirt/hooks/qemu.d/50-tcpferry
echo "== dpkg --purge"
dpkg --purge tcpferry-host tcpferry-agent
test ! -e /usr/bin/tcpferry && test ! -e /opt/tcpferry/bin/tcpferry-agent
echo PACKAGES-INSTALLED-USED-PURGED
