package org.tcpferry.host.hold;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolTest {
    @TempDir
    Path dir;

    @Test
    void keepsOrderAcrossMemoryAndFileAndDeletesTheFile() throws IOException {
        byte[] data = new byte[300_000];
        new Random(7).nextBytes(data);
        Spool spool = new Spool(100_000, dir, "test");
        int at = 0;
        Random sizes = new Random(1);
        while (at < data.length) {
            int n = Math.min(data.length - at, 1 + sizes.nextInt(20_000));
            spool.append(data, at, n);
            at += n;
        }
        assertThat(spool.size()).isEqualTo(data.length);
        assertThat(spool.bytesOnDisk()).isEqualTo(200_000);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.toList()).hasSize(1);
        }
        assertThat(spool.readAll()).isEqualTo(data);
        spool.close();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.toList()).isEmpty();
        }
    }

    @Test
    void smallSpoolNeverTouchesDisk() throws IOException {
        Path sub = dir.resolve("never");
        try (Spool spool = new Spool(1000, sub, "small")) {
            spool.append(new byte[] {1, 2, 3}, 0, 3);
            assertThat(spool.readAll()).containsExactly(1, 2, 3);
            assertThat(spool.bytesOnDisk()).isZero();
        }
        assertThat(Files.exists(sub)).isFalse();
    }

    @Test
    void quotaIsTheSmallerOfConnectionAndDomainRoom() {
        SpoolQuota quota = new SpoolQuota(100, 150);
        assertThat(quota.room(0)).isEqualTo(100);
        quota.take(100);
        assertThat(quota.room(100)).isZero();
        assertThat(quota.room(0)).isEqualTo(50);
        quota.give(100);
        assertThat(quota.room(0)).isEqualTo(100);
    }

    @Test
    void aKeptSpoolIsAFileFromTheFirstByteAndIsAdoptedCutToWhatWasConsumed() throws IOException {
        byte[] data = new byte[50_000];
        new Random(3).nextBytes(data);
        Spool spool = new Spool(1_000_000, dir, "kept");
        spool.keepOnDisk();
        assertThat(Files.size(spool.file())).isZero();
        spool.append(data, 0, data.length);
        assertThat(spool.bytesOnDisk()).isEqualTo(data.length);
        Path file = spool.file();

        // A host manager that died after spooling, before the copy consumed the last 10 000 bytes.
        Spool adopted = Spool.adopt(file, 40_000, "kept");
        assertThat(adopted.size()).isEqualTo(40_000);
        adopted.append(data, 40_000, 10_000);
        assertThat(adopted.readAll()).isEqualTo(data);
        adopted.close();
        assertThat(file).doesNotExist();
    }

    @Test
    void adoptingASpoolShorterThanWhatWasConsumedFails() throws IOException {
        Spool spool = new Spool(0, dir, "short");
        spool.keepOnDisk();
        spool.append(new byte[100], 0, 100);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Spool.adopt(spool.file(), 101, "short"))
                .isInstanceOf(IOException.class).hasMessageContaining("holds 100 bytes, the copy consumed 101");
        spool.close();
    }
}
