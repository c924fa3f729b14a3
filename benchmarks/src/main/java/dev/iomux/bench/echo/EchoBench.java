package dev.iomux.bench.echo;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The echo benchmark across processes: for each server kind, starts {@link EchoServer} in one process and
 * {@link EchoLoad} in another (pinned to different CPUs with taskset when there is more than one CPU and
 * taskset is installed), and prints the load generator's line with the server's name.
 *
 * <pre>EchoBench [-c conns] [-s size] [-w warmup_s] [-d secs] [-m max_msgs_per_conn] [server ...]</pre>
 *
 * <p>Servers default to iomux-select, iomux-poll, iomux-epoll, nio and netty-epoll. The child JVMs are
 * the running {@code java}, with this process's class path.
 */
public final class EchoBench {
    private EchoBench() {
    }

    /**
     * Runs every server in turn.
     *
     * @param args see the class comment
     * @throws Exception if a process cannot be started
     */
    public static void main(String[] args) throws Exception {
        List<String> loadArgs = new ArrayList<>();
        List<String> servers = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].startsWith("-")) {
                loadArgs.add(args[i]);
                loadArgs.add(args[++i]);
            } else {
                servers.add(args[i]);
            }
        }
        if (servers.isEmpty()) {
            servers = List.of("iomux-select", "iomux-poll", "iomux-epoll", "nio", "netty-epoll");
        }
        String java = ProcessHandle.current().info().command().orElse("java");
        String cp = System.getProperty("java.class.path");
        boolean pin = Runtime.getRuntime().availableProcessors() > 1 && Files.isExecutable(Path.of("/usr/bin/taskset"));
        for (String server : servers) {
            List<String> sc = new ArrayList<>();
            if (pin) {
                sc.addAll(List.of("taskset", "-c", "0"));
            }
            sc.addAll(List.of(java, "--enable-native-access=ALL-UNNAMED", "-cp", cp, EchoServer.class.getName(), server));
            Process srv = new ProcessBuilder(sc).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                BufferedReader r = new BufferedReader(new InputStreamReader(srv.getInputStream(), StandardCharsets.UTF_8));
                String first = r.readLine();
                if (first == null || !first.startsWith("LISTENING ")) {
                    System.out.println("SKIP\tserver=" + server + "\treason=server did not start: " + first);
                    continue;
                }
                String port = first.substring("LISTENING ".length()).trim();
                List<String> lc = new ArrayList<>();
                if (pin) {
                    lc.addAll(List.of("taskset", "-c", "1"));
                }
                lc.addAll(List.of(java, "-cp", cp, EchoLoad.class.getName(), "-p", port));
                lc.addAll(loadArgs);
                Process load = new ProcessBuilder(lc).redirectError(ProcessBuilder.Redirect.INHERIT).start();
                String line = new String(load.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
                if (!load.waitFor(120, TimeUnit.SECONDS)) {
                    load.destroyForcibly();
                }
                if (line.startsWith("ECHO")) {
                    System.out.println(line.replaceFirst("ECHO", "ECHO\tserver=" + server + (pin ? "\tpinned=yes" : "")));
                } else {
                    System.out.println("SKIP\tserver=" + server + "\treason=load generator failed: " + line);
                }
                System.out.flush();
            } finally {
                srv.getOutputStream().close(); // EOF on its stdin: the server exits
                if (!srv.waitFor(10, TimeUnit.SECONDS)) {
                    srv.destroyForcibly();
                }
            }
        }
    }
}
