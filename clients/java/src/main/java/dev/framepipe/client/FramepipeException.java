package dev.framepipe.client;

/** The server answered a request with an error frame. */
public final class FramepipeException extends RuntimeException {
    private final transient Response response;

    public FramepipeException(Response response) {
        super("server answered " + response.error() + " (" + response.errorCode() + "): " + response.errorMessage());
        this.response = response;
    }

    public Response response() {
        return response;
    }
}
