package dev.iomux.io;

import java.io.FileDescriptor;
import java.lang.reflect.Field;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.channels.Channel;
import java.nio.channels.SelectableChannel;

import jnr.enxio.channels.NativeSelectableChannel;

/**
 * The file descriptor behind a channel, so that channels made elsewhere can be registered with an iomux
 * selector (rule API-CHANNELS): jnr-unixsocket and jnr-enxio channels, and the JDK's
 * {@code SocketChannel}, {@code ServerSocketChannel}, {@code DatagramChannel} and {@code Pipe} channels.
 *
 * <p>jnr channels expose their descriptor ({@code getFD()}). The JDK keeps it in an internal class: reading
 * it needs the JVM option {@value #ADD_OPENS_NIO} (and {@value #ADD_OPENS_IO} for a
 * {@link FileDescriptor}); without it these methods say so, naming the option.
 *
 * <p>The descriptor stays owned by the channel: put a JDK channel in non-blocking mode first, unregister it
 * before closing the channel, and do not close the descriptor yourself.
 */
public final class ChannelDescriptors {
    /** The JVM option that lets iomux read the descriptor of a JDK channel. */
    public static final String ADD_OPENS_NIO = "--add-opens java.base/sun.nio.ch=ALL-UNNAMED";
    /** The JVM option that lets iomux read the descriptor inside a {@link FileDescriptor}. */
    public static final String ADD_OPENS_IO = "--add-opens java.base/java.io=ALL-UNNAMED";

    private ChannelDescriptors() {
    }

    /**
     * Returns the descriptor of a channel.
     *
     * @param channel a jnr {@link NativeSelectableChannel} (jnr-unixsocket's channels) or a JDK
     *                {@link SelectableChannel}, open
     * @return its descriptor
     * @throws IllegalArgumentException      if the channel is closed, or of a kind with no descriptor
     * @throws UnsupportedOperationException if the JDK hides the descriptor; the message names the
     *                                       {@code --add-opens} option to use
     */
    public static int of(Channel channel) {
        if (!channel.isOpen()) {
            throw new IllegalArgumentException("channel " + channel + " is closed: it has no descriptor");
        }
        if (channel instanceof NativeSelectableChannel) {
            return ((NativeSelectableChannel) channel).getFD();
        }
        if (channel instanceof SelectableChannel) {
            return jdkChannelFd(channel);
        }
        throw new IllegalArgumentException("cannot find the descriptor of a " + channel.getClass().getName()
                + ": pass a jnr NativeSelectableChannel or a JDK SelectableChannel");
    }

    /**
     * Returns the descriptor number inside a {@link FileDescriptor}, e.g. of a {@code FileInputStream}.
     *
     * @param fd a valid FileDescriptor
     * @return its number
     * @throws IllegalArgumentException      if it is not valid
     * @throws UnsupportedOperationException if the JDK hides the number; names {@value #ADD_OPENS_IO}
     */
    public static int of(FileDescriptor fd) {
        if (!fd.valid()) {
            throw new IllegalArgumentException("FileDescriptor " + fd + " is not valid (closed)");
        }
        try {
            Field f = FileDescriptor.class.getDeclaredField("fd");
            f.setAccessible(true);
            return f.getInt(fd);
        } catch (InaccessibleObjectException | IllegalAccessException e) {
            throw hidden(FileDescriptor.class.getName(), ADD_OPENS_IO, e);
        } catch (NoSuchFieldException e) {
            throw new UnsupportedOperationException("this JDK keeps no 'fd' field in java.io.FileDescriptor", e);
        }
    }

    private static int jdkChannelFd(Channel channel) {
        // Every JDK selectable channel implements sun.nio.ch.SelChImpl, whose getFDVal() returns the fd.
        try {
            Class<?> selCh = Class.forName("sun.nio.ch.SelChImpl");
            if (!selCh.isInstance(channel)) {
                throw new IllegalArgumentException(channel.getClass().getName()
                        + " is not one of the JDK's own channels: it has no descriptor to read");
            }
            Method getFdVal = selCh.getMethod("getFDVal");
            getFdVal.setAccessible(true);
            return (Integer) getFdVal.invoke(channel);
        } catch (InaccessibleObjectException | IllegalAccessException e) {
            throw hidden(channel.getClass().getName(), ADD_OPENS_NIO, e);
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            throw new UnsupportedOperationException("this JDK has no sun.nio.ch.SelChImpl.getFDVal(): cannot "
                    + "read the descriptor of " + channel.getClass().getName(), e);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException("getFDVal() failed on " + channel, e.getCause());
        }
    }

    private static UnsupportedOperationException hidden(String what, String option, Exception cause) {
        return new UnsupportedOperationException("the JDK hides the descriptor of " + what
                + ": run the JVM with " + option + " to let iomux read it", cause);
    }
}
