package org.tcpferry.host.cli;

import org.libvirt.DomainJobInfo;
import org.tcpferry.host.libvirt.LibvirtFailure;
import org.tcpferry.host.libvirt.LibvirtSession;

/**
 * Polls a libvirt job (save, migration) once a second on a thread of its own and prints its
 * bytes. A driver that cannot report jobs (the test driver) ends the polling after one message.
 */
final class JobPoller implements AutoCloseable {
    private final Thread thread;

    private JobPoller(Thread thread) {
        this.thread = thread;
    }

    static JobPoller start(LibvirtSession session, String domain, String phase, ProgressPrinter progress) {
        Thread thread = new Thread(() -> {
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Thread.sleep(1000);
                    DomainJobInfo job = session.jobInfo(domain);
                    if (job.getDataTotal() > 0 || job.getDataProcessed() > 0) {
                        progress.job(phase, job.getDataProcessed(), job.getDataTotal());
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (LibvirtFailure e) {
                // Once the job ends the domain may be gone from this host: only an early failure is news.
                if (!Thread.currentThread().isInterrupted()) {
                    progress.phase(phase, "no byte counts from libvirt (" + e.getMessage() + ")");
                }
            }
        }, "job-progress");
        thread.setDaemon(true);
        thread.start();
        return new JobPoller(thread);
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}
