package org.tcpferry.host.libvirt;

import java.io.IOException;
import org.libvirt.LibvirtException;

/** A libvirt call failed; the message names the operation and carries libvirt's own message. */
public final class LibvirtFailure extends IOException {
    private static final long serialVersionUID = 1L;

    public LibvirtFailure(String operation, LibvirtException cause) {
        super(operation + ": " + describe(cause), cause);
    }

    private static String describe(LibvirtException e) {
        return e.getError() != null && e.getError().getMessage() != null ? e.getError().getMessage() : e.getMessage();
    }
}
