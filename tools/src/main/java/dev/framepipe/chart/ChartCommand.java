package dev.framepipe.chart;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.framepipe.cli.Commands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code framepipe chart load|jmh RESULTS.json}: SVG charts made from results, written beside
 * them (or into {@code --out}) and listed on standard output, one file a line.
 */
@Command(name = "framepipe chart", mixinStandardHelpOptions = true, versionProvider = dev.framepipe.cli.VersionProvider.class,
        description = {"SVG charts from results:",
                "  load RESULTS.json  a load-test summary (load-tests/run.sh writes it beside its report): throughput per",
                "                     scenario and server, server CPU per frame, a latency spectrum per scenario",
                "  jmh RESULTS.json   JMH results (bin/framepipe bench ... -rf json -rff FILE): the kernels against their",
                "                     scalar twins and memory bandwidth; the ring against JCTools and ArrayBlockingQueue"})
public final class ChartCommand implements Callable<Integer> {

    @Parameters(index = "0", description = "load or jmh")
    String kind;

    @Parameters(index = "1", description = "the results (JSON)")
    Path results;

    @Option(names = "--out", description = "directory of the charts (default: the results' directory)")
    Path out;

    @Option(names = "--name", description = "start of the charts' file names (default: the results' file name without .json)")
    String name;

    public static int run(String[] argv) {
        return Commands.execute(new ChartCommand(), argv);
    }

    @Override
    public Integer call() throws IOException {
        System.setProperty("java.awt.headless", "true"); // charts are drawn off screen
        if (!kind.equals("load") && !kind.equals("jmh")) {
            throw new CommandLine.ParameterException(new CommandLine(this), "the kind of results must be load or jmh, not '" + kind + "'");
        }
        JsonNode json;
        try {
            json = new ObjectMapper().readTree(Files.readString(results));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such file: " + results);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(results + " is not JSON: " + e.getOriginalMessage());
        }
        if (json == null) {
            throw new IllegalArgumentException(results + " is empty");
        }
        Path dir = out != null ? out : results.toAbsolutePath().getParent();
        String prefix = name != null ? name : results.getFileName().toString().replaceFirst("\\.json$", "");
        List<Path> files = kind.equals("load") ? LoadCharts.write(json, dir, prefix) : JmhCharts.write(json, dir, prefix);
        for (Path f : files) {
            System.out.println(f);
        }
        return 0;
    }
}
