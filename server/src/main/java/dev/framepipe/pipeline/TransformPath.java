package dev.framepipe.pipeline;

/** How a transform (SCALE, UPPER, LOWER) produced its answer. */
public enum TransformPath {
    /** The request's bytes were the answer, untouched. */
    BORROWED("borrowed"),
    /** The answer was written over the request's own memory. */
    IN_PLACE("in_place"),
    /** The answer needed a new buffer (its byte length differs from the request's). */
    COPIED("copied");

    private final String label;

    TransformPath(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
