package dev.framepipe.kernel;

import java.lang.foreign.MemorySegment;

/**
 * UTF-8 text kernels over bytes read in place from memory. Implementations allocate nothing
 * per call except where a method says otherwise.
 */
public interface TextKernels {

    /** Result of {@link #caseMapInPlace}: the text needed no change and was left untouched. */
    long UNCHANGED = -1;
    /** Result of {@link #caseMapInPlace}: the text was rewritten in place (same byte length). */
    long IN_PLACE = -2;

    /**
     * Checks strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
     * U+10FFFF, no truncated sequence).
     *
     * @return -1 when well-formed, otherwise the byte index (relative to {@code offset}) of the
     *     first byte of the first ill-formed sequence
     */
    long validateUtf8(MemorySegment segment, long offset, long length);

    /** COUNT: bytes, code points, words, lines of well-formed UTF-8 (validate first). */
    void count(MemorySegment segment, long offset, long length, CountResult out);

    /**
     * UPPER ({@code upper == true}) or LOWER of well-formed UTF-8, exactly as
     * {@code String.toUpperCase/toLowerCase(Locale.ROOT)} of the decoded text.
     *
     * @return {@link #UNCHANGED} when the mapped text equals the input (input untouched),
     *     {@link #IN_PLACE} when the mapped text had the same byte length and was written
     *     over the input, otherwise the byte length (&ge; 0) of the mapped text, which
     *     differs from {@code length}; the input is then untouched and the caller copies the
     *     mapping into a new buffer of that length with {@link #caseMapTo}
     */
    long caseMapInPlace(MemorySegment segment, long offset, long length, boolean upper);

    /**
     * Writes the mapping of the text at {@code src}/{@code srcOffset} to {@code dst} at
     * {@code dstOffset}; {@code dst} has room for the length {@link #caseMapInPlace} returned.
     * May allocate when the text needs Unicode special casing (for example "ß" to "SS").
     *
     * @return bytes written
     */
    long caseMapTo(MemorySegment src, long srcOffset, long length, boolean upper,
                   MemorySegment dst, long dstOffset);
}
