package org.tcpferry.host.config;

/**
 * The endpoint other host managers connect to. Mutual TLS unless {@code insecure} is set, which
 * is meant for tests on one machine only.
 *
 * @param listen {@code host:port}, empty to disable the endpoint
 * @param cert PEM certificate chain of this host
 * @param key PEM PKCS#8 private key of this host
 * @param trust PEM certificates a connecting host's certificate must chain to
 * @param insecure accept plaintext connections without authentication
 */
public record PeerConfig(String listen, String cert, String key, String trust, boolean insecure) {

    public PeerConfig {
        listen = listen == null ? "" : listen;
        if (!listen.isEmpty() && !insecure && (cert == null || key == null || trust == null)) {
            throw new IllegalArgumentException(
                    "peer.listen " + listen + " needs peer.cert, peer.key and peer.trust (or peer.insecure: true)");
        }
    }

    public static PeerConfig disabled() {
        return new PeerConfig("", null, null, null, false);
    }

    public boolean enabled() {
        return !listen.isEmpty();
    }
}
