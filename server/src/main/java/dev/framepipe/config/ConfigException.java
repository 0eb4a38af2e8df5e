package dev.framepipe.config;

/** A setting with a bad value, or a configuration file that cannot be read; fatal at start-up. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
