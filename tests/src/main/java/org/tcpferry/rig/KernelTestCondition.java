package org.tcpferry.rig;

import java.util.List;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.opentest4j.AssertionFailedError;

/**
 * The extension behind {@link KernelTest}. Locally a test without its kernel prerequisites is
 * disabled, with the reason. Under CI it is enabled instead and then fails before it starts (before
 * the class's own {@code @BeforeAll}, so a fixture does not fail first with a less useful message).
 */
public final class KernelTestCondition implements ExecutionCondition, BeforeAllCallback, BeforeEachCallback {

    /** What to do with a kernel test. */
    enum Verdict { RUN, SKIP, FAIL }

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        List<String> missing = KernelPrerequisites.missing();
        switch (verdict(missing, isCi())) {
            case SKIP:
                return ConditionEvaluationResult.disabled(reason(missing));
            case FAIL:
                return ConditionEvaluationResult.enabled("runs to fail under CI: " + reason(missing));
            default:
                return ConditionEvaluationResult.enabled("kernel prerequisites present");
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        failUnderCi();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        failUnderCi();
    }

    private static void failUnderCi() {
        List<String> missing = KernelPrerequisites.missing();
        if (verdict(missing, isCi()) == Verdict.FAIL) {
            throw new AssertionFailedError(reason(missing) + " (under CI a kernel test that cannot run fails)");
        }
    }

    static Verdict verdict(List<String> missing, boolean ci) {
        if (missing.isEmpty()) {
            return Verdict.RUN;
        }
        return ci ? Verdict.FAIL : Verdict.SKIP;
    }

    static String reason(List<String> missing) {
        return "kernel test needs what this process lacks: " + String.join("; ", missing);
    }

    /** Environment CI=true (what CI systems set) or -Dtcpferry.ci=true (what the parent pom passes). */
    public static boolean isCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"))
                || "true".equalsIgnoreCase(System.getProperty("tcpferry.ci"));
    }
}
