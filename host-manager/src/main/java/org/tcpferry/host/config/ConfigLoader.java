package org.tcpferry.host.config;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;

/** Reads a {@link HostConfig} from JSON ({@code .json}) or YAML ({@code .yaml}, {@code .yml}). */
public final class ConfigLoader {
    private ConfigLoader() {
    }

    public static HostConfig load(Path file) throws IOException {
        ObjectMapper mapper = mapperFor(file.getFileName().toString());
        try {
            return mapper.readValue(file.toFile(), HostConfig.class);
        } catch (com.fasterxml.jackson.databind.exc.ValueInstantiationException e) {
            // A record constructor refused a value: show its message, not Jackson's wrapper.
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IOException(file + ": " + cause.getMessage(), e);
        }
    }

    static ObjectMapper mapperFor(String fileName) {
        ObjectMapper mapper;
        if (fileName.endsWith(".yaml") || fileName.endsWith(".yml")) {
            mapper = new ObjectMapper(new YAMLFactory());
        } else if (fileName.endsWith(".json")) {
            mapper = new ObjectMapper();
        } else {
            throw new IllegalArgumentException("config file must end in .json, .yaml or .yml: " + fileName);
        }
        // A misspelt setting must not silently fall back to its default.
        return mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }
}
