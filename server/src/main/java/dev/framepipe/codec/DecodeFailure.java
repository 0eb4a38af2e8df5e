package dev.framepipe.codec;

import dev.framepipe.protocol.ErrorCode;

/**
 * A header the decoder refuses (bad length, version or size, or a frame declined while the
 * server drains). Passed down the pipeline in place of a frame, in the frame's position, so
 * that its error answer follows every earlier answer. Every failure closes the connection.
 */
public record DecodeFailure(ErrorCode code, int op, long id, String message) {
}
