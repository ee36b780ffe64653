package org.tcpferry.host.libvirt;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainInfo.DomainState;
import org.libvirt.DomainJobInfo;
import org.libvirt.LibvirtException;

/**
 * One connection to libvirt (a URI as {@code virsh --connect} takes it) with the few operations
 * tcpferry uses, each failure an {@link LibvirtFailure} that names what was being done.
 * A Connect may be used from several threads (libvirt's connections are thread-safe), which
 * the progress poller relies on.
 */
public final class LibvirtSession implements Closeable {
    /** virDomainXMLFlags: VIR_DOMAIN_XML_INACTIVE (the persistent definition, not the running one). */
    private static final int XML_INACTIVE = 2;

    private final String uri;
    private final Connect connect;

    private LibvirtSession(String uri, Connect connect) {
        this.uri = uri;
        this.connect = connect;
    }

    /** Connects to {@code uri}, e.g. {@code qemu:///system} or {@code test:///default}. */
    public static LibvirtSession open(String uri) throws LibvirtFailure {
        try {
            return new LibvirtSession(uri, new Connect(uri, false));
        } catch (LibvirtException e) {
            throw new LibvirtFailure("connect to " + uri, e);
        } catch (UnsatisfiedLinkError e) {
            throw new IllegalStateException("libvirt's C library (libvirt.so.0) is not installed: install libvirt0", e);
        }
    }

    public String uri() {
        return uri;
    }

    /** The underlying connection, for event registration. */
    public Connect connect() {
        return connect;
    }

    public Domain domain(String name) throws LibvirtFailure {
        try {
            return connect.domainLookupByName(name);
        } catch (LibvirtException e) {
            throw new LibvirtFailure("look up domain " + name + " on " + uri, e);
        }
    }

    /** The persistent definition of {@code name} (what {@code virsh dumpxml --inactive} prints). */
    public String inactiveXml(String name) throws LibvirtFailure {
        try {
            return domain(name).getXMLDesc(XML_INACTIVE);
        } catch (LibvirtException e) {
            throw new LibvirtFailure("read the definition of " + name, e);
        }
    }

    /** The running definition of {@code name} (channel socket paths are filled in here). */
    public String liveXml(String name) throws LibvirtFailure {
        try {
            return domain(name).getXMLDesc(0);
        } catch (LibvirtException e) {
            throw new LibvirtFailure("read the live XML of " + name, e);
        }
    }

    public void define(String xml) throws LibvirtFailure {
        try {
            connect.domainDefineXML(xml);
        } catch (LibvirtException e) {
            throw new LibvirtFailure("define the domain on " + uri, e);
        }
    }

    public boolean isActive(String name) throws LibvirtFailure {
        try {
            return domain(name).isActive() == 1;
        } catch (LibvirtException e) {
            throw new LibvirtFailure("ask whether " + name + " runs", e);
        }
    }

    /** libvirt's state of the domain (running, paused, shut off, ...). */
    public DomainState state(String name) throws LibvirtFailure {
        try {
            return domain(name).getInfo().state;
        } catch (LibvirtException e) {
            throw new LibvirtFailure("read the state of " + name, e);
        }
    }

    /** {@code virsh suspend NAME}: the guest's vCPUs stop; it sends nothing. */
    public void suspend(String name) throws LibvirtFailure {
        try {
            domain(name).suspend();
        } catch (LibvirtException e) {
            throw new LibvirtFailure("suspend " + name, e);
        }
    }

    /** {@code virsh resume NAME}. */
    public void resume(String name) throws LibvirtFailure {
        try {
            domain(name).resume();
        } catch (LibvirtException e) {
            throw new LibvirtFailure("resume " + name, e);
        }
    }

    /** {@code virsh save NAME FILE}: the domain stops, its memory goes to {@code file}. */
    public void save(String name, Path file) throws LibvirtFailure {
        try {
            domain(name).save(file.toAbsolutePath().toString());
        } catch (LibvirtException e) {
            throw new LibvirtFailure("save " + name + " to " + file, e);
        }
    }

    /** {@code virsh restore FILE}: the domain runs again on this connection's host. */
    public void restore(Path file) throws LibvirtFailure {
        try {
            connect.restore(file.toAbsolutePath().toString());
        } catch (LibvirtException e) {
            throw new LibvirtFailure("restore " + file, e);
        }
    }

    /**
     * Migrates {@code name} to {@code destination} (a libvirt URI) with libvirt's
     * {@code Domain.MigrateFlags}, the way {@code virsh migrate} without {@code --p2p} does: this
     * process connects to both hosts.
     */
    public void migrate(String name, String destination, long flags) throws LibvirtFailure {
        Domain domain = domain(name);
        Connect target;
        try {
            target = new Connect(destination, false);
        } catch (LibvirtException e) {
            throw new LibvirtFailure("connect to the destination " + destination, e);
        }
        try {
            domain.migrate(target, flags, null, null, 0);
        } catch (LibvirtException e) {
            throw new LibvirtFailure("migrate " + name + " to " + destination, e);
        } finally {
            try {
                target.close();
            } catch (LibvirtException e) {
                // Nothing depends on closing the destination connection cleanly; say so and go on.
                System.err.println("tcpferry: closing the connection to " + destination + " failed: " + e.getMessage());
            }
        }
    }

    /** The running job (save, migration) of {@code name}: bytes done and total. */
    public DomainJobInfo jobInfo(String name) throws LibvirtFailure {
        try {
            return domain(name).getJobInfo();
        } catch (LibvirtException e) {
            throw new LibvirtFailure("read the job progress of " + name, e);
        }
    }

    /** virDomainJobOperation VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT (libvirt 3.3+). */
    static final int JOB_OPERATION_MIGRATION_OUT = 5;

    /**
     * Whether {@code name} has a job running that migrates it away from this host: its job stats'
     * {@code operation} field is MIGRATION_OUT. False when it has no job, another job, or libvirt no
     * longer knows it (a transient domain that has left).
     */
    public boolean migratingOut(String name) throws LibvirtFailure {
        org.libvirt.DomainJobStats stats;
        try {
            stats = connect.domainLookupByName(name).getJobStats(0);
        } catch (LibvirtException e) {
            if (noSuchDomain(e)) {
                return false;
            }
            throw new LibvirtFailure("read the job stats of " + name + " on " + uri, e);
        }
        if (stats == null || stats.type == 0 || stats.stats == null) { // VIR_DOMAIN_JOB_NONE
            return false;
        }
        for (org.libvirt.TypedParameter parameter : stats.stats) {
            if ("operation".equals(parameter.field)) {
                return Integer.parseInt(parameter.getValueAsString()) == JOB_OPERATION_MIGRATION_OUT;
            }
        }
        return false;
    }

    /** Whether {@code name} exists here and its guest runs (not paused, not shut off). */
    public boolean runsHere(String name) throws LibvirtFailure {
        try {
            return connect.domainLookupByName(name).getInfo().state == DomainState.VIR_DOMAIN_RUNNING;
        } catch (LibvirtException e) {
            if (noSuchDomain(e)) {
                return false;
            }
            throw new LibvirtFailure("read the state of " + name + " on " + uri, e);
        }
    }

    /** Every domain libvirt knows here, running or not, with what tcpferry needs of each. */
    public List<DiscoveredDomain> discover() throws LibvirtFailure {
        List<DiscoveredDomain> result = new ArrayList<>();
        try {
            for (Domain domain : connect.listAllDomains(0)) {
                boolean active = domain.isActive() == 1;
                result.add(DiscoveredDomain.of(domain.getXMLDesc(0), active));
            }
        } catch (LibvirtException e) {
            throw new LibvirtFailure("list the domains on " + uri, e);
        }
        return result;
    }

    /**
     * What libvirt tells about the one domain {@code name}, or empty when libvirt has no domain of
     * that name (any other failure throws).
     */
    public java.util.Optional<DiscoveredDomain> discover(String name) throws LibvirtFailure {
        Domain domain;
        try {
            domain = connect.domainLookupByName(name);
        } catch (LibvirtException e) {
            if (noSuchDomain(e)) {
                return java.util.Optional.empty();
            }
            throw new LibvirtFailure("look up domain " + name + " on " + uri, e);
        }
        try {
            return java.util.Optional.of(DiscoveredDomain.of(domain.getXMLDesc(0), domain.isActive() == 1));
        } catch (LibvirtException e) {
            throw new LibvirtFailure("read the live XML of " + name + " on " + uri, e);
        }
    }

    /** Whether libvirt failed because it has no domain of the name asked for (not another failure). */
    private static boolean noSuchDomain(LibvirtException e) {
        return e.getError() != null && e.getError().getCode() == org.libvirt.Error.ErrorNumber.VIR_ERR_NO_DOMAIN;
    }

    @Override
    public void close() throws IOException {
        try {
            connect.close();
        } catch (LibvirtException e) {
            throw new LibvirtFailure("close the connection to " + uri, e);
        }
    }
}
