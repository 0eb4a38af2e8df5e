package dev.framepipe.protocol;

/** Error codes of the protocol, with whether the connection closes after the error. */
public enum ErrorCode {
    BAD_VERSION(1, true),
    UNKNOWN_KIND(2, false),
    UNKNOWN_OP(3, false),
    /** Payload size wrong for the op (connection stays open), or length &lt; 12 (see {@link #closes(long)}). */
    MALFORMED(4, false),
    FRAME_TOO_LARGE(5, true),
    INVALID_UTF8(6, false),
    SHUTTING_DOWN(7, true),
    INTERNAL(8, false);

    private static final ErrorCode[] BY_CODE = new ErrorCode[9];

    static {
        for (ErrorCode c : values()) {
            BY_CODE[c.code] = c;
        }
    }

    private final int code;
    private final boolean closesConnection;
    private final String label;

    ErrorCode(int code, boolean closesConnection) {
        this.code = code;
        this.closesConnection = closesConnection;
        this.label = name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The u16 on the wire. */
    public int code() {
        return code;
    }

    /** Whether the server closes the connection after answering with this error. */
    public boolean closesConnection() {
        return closesConnection;
    }

    /** The metric label value: the name in lower-case snake_case. */
    public String label() {
        return label;
    }

    /** The code for a wire value, or null when the value is not a known code. */
    public static ErrorCode of(int code) {
        return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
