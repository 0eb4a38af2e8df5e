package dev.framepipe.client;

import java.io.IOException;

/** The connection ended before a request was answered. */
public final class ConnectionClosedException extends IOException {
    public ConnectionClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
