package org.tcpferry.nft;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

/**
 * A mirror of the libnftables calls tcpferry needs (the library the {@code nft} binary is built
 * on, from the same package), through JNA's direct mapping. Nothing here interprets a result;
 * {@link Nftables} does.
 */
final class LibNftables {
    static {
        Native.register(LibNftables.class, NativeLibrary.getInstance("libnftables.so.1"));
    }

    private LibNftables() {}

    static final int NFT_CTX_DEFAULT = 0;

    static native Pointer nft_ctx_new(int flags);

    static native void nft_ctx_free(Pointer ctx);

    static native int nft_ctx_buffer_output(Pointer ctx);

    static native int nft_ctx_buffer_error(Pointer ctx);

    /** The output since the last call; rewinds the buffer. */
    static native Pointer nft_ctx_get_output_buffer(Pointer ctx);

    /** The error messages since the last call; rewinds the buffer. */
    static native Pointer nft_ctx_get_error_buffer(Pointer ctx);

    /** Parses {@code buf} and applies it as one transaction, like {@code nft -f}; 0 on success. */
    static native int nft_run_cmd_from_buffer(Pointer ctx, String buf);
}
