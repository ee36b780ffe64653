package org.tcpferry.host.metrics;

import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;

/**
 * Serves the metrics in Prometheus text format at {@code /metrics}. The JDK's HttpServer is
 * enough for one scrape every few seconds and adds no dependency.
 */
public final class MetricsServer implements Closeable {
    private final HttpServer server;

    private MetricsServer(HttpServer server) {
        this.server = server;
    }

    public static MetricsServer start(InetSocketAddress address, HostMetrics metrics) throws IOException {
        HttpServer server = HttpServer.create(address, 16);
        PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
        server.createContext("/metrics", exchange -> {
            try (exchange) {
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                writer.write(body, metrics.registry().scrape());
                exchange.getResponseHeaders().set("Content-Type", writer.getContentType());
                exchange.sendResponseHeaders(200, body.size());
                try (OutputStream out = exchange.getResponseBody()) {
                    body.writeTo(out);
                }
            }
        });
        server.start();
        return new MetricsServer(server);
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
