package dev.framepipe.server;

/**
 * User events {@link ConnectionTimers} fires down the connection's pipeline, as Netty's
 * {@code IdleStateHandler} fires {@code IdleStateEvent}s; {@link GracefulClose} acts on them.
 */
enum ConnectionEvent {
    /** No complete frame and no answer owed for {@code idle-timeout} (or a close that stays stuck that long). */
    IDLE_TIMEOUT,
    /** The connection reached its {@code max-connection-age} (drawn with jitter). */
    MAX_AGE
}
