package dev.iomux;

/** A selector was used after {@link Selector#close()} (rule API-CLOSE). */
public class SelectorClosedException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message names the selector and what was attempted
     */
    public SelectorClosedException(String message) {
        super(message);
    }
}
