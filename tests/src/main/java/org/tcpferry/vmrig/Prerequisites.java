package org.tcpferry.vmrig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the VM tests need beyond the kernel rig, checked up front so a missing piece fails the test
 * with its name (VM tests must never be skipped in CI) instead of a confusing error halfway.
 */
final class Prerequisites {
    private Prerequisites() {}

    static void check(Path repoRoot) {
        List<String> missing = new ArrayList<>();
        for (String tool : new String[] {"virsh", "libvirtd", "qemu-system-x86_64", "perl", "cpio", "nsenter", "unshare"}) {
            if (!onPath(tool)) {
                missing.add(tool + " (install: vm-images/build.sh --install-host-packages, or bin/test-all)");
            }
        }
        if (!Files.isRegularFile(repoRoot.resolve("host-manager/target/runtime-classpath.txt"))) {
            missing.add("the built host manager for bin/tcpferry (mvn -pl host-manager -am install -DskipTests)");
        }
        if (!Files.isRegularFile(repoRoot.resolve("guest-agent/target/runtime-classpath.txt"))) {
            missing.add("the built guest agent for the image (mvn -pl guest-agent -am install -DskipTests)");
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("VM tests cannot run, missing: " + String.join("; ", missing));
        }
    }

    private static boolean onPath(String tool) {
        String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }
}
