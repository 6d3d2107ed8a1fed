package dev.weir.bench;

import java.util.HashMap;
import java.util.Map;

/** Tiny "--name value" argument parser (no dependency on Flink's ParameterTool). */
final class Args {
    private final Map<String, String> values = new HashMap<>();

    Args(String[] argv) {
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument: " + a);
            }
            String name = a.substring(2);
            String value = "true";
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) {
                value = argv[++i];
            }
            values.put(name, value);
        }
    }

    long getLong(String name, long dflt) {
        String v = values.get(name);
        return v == null ? dflt : Long.parseLong(v.replace("_", ""));
    }

    int getInt(String name, int dflt) {
        return (int) getLong(name, dflt);
    }

    String get(String name, String dflt) {
        return values.getOrDefault(name, dflt);
    }

    /** The value of --name; a missing one is an error. */
    String required(String name) {
        String v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("--" + name + " is required");
        }
        return v;
    }
}
