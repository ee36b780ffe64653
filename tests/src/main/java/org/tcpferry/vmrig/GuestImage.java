package org.tcpferry.vmrig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * The guest image for VM tests: {@code vm-images/build.sh} (cached by its inputs, so unchanged
 * inputs cost ~2 s) plus an overlay with the test workload as a {@code guest-init.d} hook.
 *
 * <p>The workload is an echo client: it connects to the peer and runs {@code cat} on the socket, so
 * every byte the peer sends comes back, and the peer alone can check both directions byte for byte.
 * It reconnects one second after a connection ends, so one boot serves several scenarios.
 */
public record GuestImage(Path vmlinux, Path initrd, String cmdline) {
    /** System property naming an extra directory laid over the image last (diagnostics only). */
    public static final String EXTRA_OVERLAY_PROPERTY = "tcpferry.vm.extraOverlay";

    /** Builds (or reuses) the image into {@code work/image} and writes {@code work/initrd-vm.img} with the workload. */
    public static GuestImage build(Path repoRoot, Path work, String peerAddress, int peerPort) throws IOException {
        Path imageDir = work.resolve("image");
        Shell.check(600, repoRoot.resolve("vm-images/build.sh").toString(), imageDir.toString());
        Path hook = work.resolve("overlay/opt/tcpferry/guest-init.d/60-echo-client");
        Files.createDirectories(hook.getParent());
        // busybox nc -e hands the connected socket to cat as stdin and stdout: cat is the application
        // whose connection the agent carries. Output goes to the console for diagnosis.
        Files.writeString(hook, "#!/bin/sh\n"
                + "(\n"
                + "    while true; do\n"
                + "        echo \"echo-client: connecting to " + peerAddress + ":" + peerPort + "\"\n"
                + "        nc " + peerAddress + " " + peerPort + " -e /bin/cat\n"
                + "        echo \"echo-client: connection ended ($?)\"\n"
                + "        sleep 1\n"
                + "    done\n"
                + ") < /dev/null > /dev/console 2>&1 &\n");
        Files.setPosixFilePermissions(hook, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path initrd = work.resolve("initrd-vm.img");
        List<String> command = new ArrayList<>(List.of(repoRoot.resolve("vm-images/overlay.sh").toString(),
                imageDir.resolve("initrd.img").toString(), initrd.toString(), work.resolve("overlay").toString()));
        // A diagnostic hook: files laid over the image after the workload (e.g. an agent jar with a
        // fix under test), without rebuilding the image or touching the checkout.
        String extra = System.getProperty(EXTRA_OVERLAY_PROPERTY, "");
        if (!extra.isEmpty()) {
            command.add(extra);
        }
        Shell.check(300, command.toArray(String[]::new));
        String cmdline = Files.readString(imageDir.resolve("cmdline")).strip();
        return new GuestImage(imageDir.resolve("vmlinux"), initrd, cmdline);
    }
}
