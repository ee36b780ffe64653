package org.tcpferry.rig;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class or method that needs the real kernel: root, CAP_NET_ADMIN and CAP_SYS_ADMIN
 * (namespaces, TCP_REPAIR, nft) and the tools {@code ip}, {@code nft} and {@code nsenter}.
 *
 * <p>Where those are missing the test is skipped with the reason, except under CI (environment
 * {@code CI=true} or system property {@code tcpferry.ci=true}), where it fails with the reason: a
 * kernel test that silently did not run would make a green build mean nothing. Tagged {@code kernel},
 * so {@code -Dgroups=kernel} or {@code -DexcludedGroups=kernel} select them.
 */
@Target({ElementType.TYPE, ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Tag("kernel")
@ExtendWith(KernelTestCondition.class)
public @interface KernelTest {}
