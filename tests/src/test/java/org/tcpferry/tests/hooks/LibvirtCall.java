package org.tcpferry.tests.hooks;

import java.util.List;

/**
 * One hook call as libvirt makes it ({@code qemu DOMAIN OP SUBOP EXTRA}), with whether libvirt
 * reads the hook's stdout as the replacement XML and whether tcpferry is told about it.
 */
record LibvirtCall(String op, String subop, String extra, boolean readsXml, boolean sent) {
    /** Every call of the qemu driver (docs/libvirt.md, libvirt.org/hooks.html). */
    static final List<LibvirtCall> QEMU = List.of(
            new LibvirtCall("migrate", "begin", "-", true, true),
            new LibvirtCall("restore", "begin", "-", true, true),
            new LibvirtCall("prepare", "begin", "-", false, true),
            new LibvirtCall("start", "begin", "-", false, false),
            new LibvirtCall("started", "begin", "-", false, true),
            new LibvirtCall("stopped", "end", "-", false, true),
            new LibvirtCall("release", "end", "-", false, true),
            // libvirt >= 10.5 passes the shutoff reason as the extra argument.
            new LibvirtCall("release", "end", "migrated", false, true),
            new LibvirtCall("reconnect", "begin", "-", false, true),
            new LibvirtCall("attach", "begin", "-", false, false));

    @Override
    public String toString() {
        return op + " " + subop + " " + extra;
    }
}
