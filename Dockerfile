# framepipe container image: builds the jar from source, runs it on a JRE as a non-root user.
#   docker build -t framepipe .            (podman: docker/smoke-test.sh, docker/README.md)
#   with the version and commit (labels, --version, framepipe_build_info):
#   docker build -t framepipe -t framepipe:VERSION --build-arg VERSION=... --build-arg REVISION=$(git rev-parse HEAD) .
#   docker run --rm -p 7070:7070 -p 9464:9464 framepipe
# Everything about using the image (paths, ports, environment, memory) is in docker/README.md.

# ---- build: Maven on JDK 25 -------------------------------------------------------------------
FROM maven:3.9-eclipse-temurin-25 AS build
WORKDIR /src
# The POMs alone first: packaging the empty modules fetches every plugin and dependency the
# real build uses, in a layer rebuilt only when a POM changes, not on every source edit.
# (dependency:go-offline cannot resolve Netty's os-classified transitive artifacts.)
# The service and the tools (-pl server,tools -am): the tools' load generator drives the training
# run of the AOT cache below, and stays out of the image.
COPY pom.xml ./
COPY protocol/pom.xml protocol/
COPY clients/java/pom.xml clients/java/
COPY server/pom.xml server/
COPY tools/pom.xml tools/
RUN mvn -B -q --no-transfer-progress -Dmaven.test.skip=true -pl server,tools -am package \
 && rm -rf protocol/target clients/java/target server/target tools/target
COPY protocol/src/main protocol/src/main
COPY clients/java/src/main clients/java/src/main
COPY server/src/main server/src/main
COPY tools/src/main tools/src/main
# The build context has no .git: the commit comes in as a build argument (jar manifests,
# --version, framepipe_build_info); declared here so that a new commit keeps the layers above.
ARG REVISION=unknown
# Tests run in CI on the source tree (bin/framepipe test), not in the image build.
RUN mvn -B -q --no-transfer-progress -Dmaven.test.skip=true "-Dgit.commit.id.full=${REVISION}" -pl server,tools -am package \
 && test -s server/target/framepipe.jar && ls server/target/lib/*.jar > /dev/null \
 && test -s tools/target/framepipe-tools.jar

# ---- runtime: JRE 25 ----------------------------------------------------------------------------
FROM eclipse-temurin:25-jre

ARG VERSION=0.1.0-SNAPSHOT
ARG REVISION=unknown
LABEL org.opencontainers.image.title="framepipe" \
      org.opencontainers.image.description="High-throughput binary frame pipeline: Netty in, SPSC ring, vector kernels on a ForkJoinPool, answers out in order; Prometheus metrics." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.documentation="docker/README.md" \
      org.opencontainers.image.base.name="docker.io/library/eclipse-temurin:25-jre"

# The kernels use the incubating Vector API: stop the build here, not at run time, if this JRE
# does not ship it (then build a jlink'd runtime from eclipse-temurin:25-jdk instead).
RUN java --add-modules=jdk.incubator.vector -version 2>&1 | grep -q 'version "25' \
 && groupadd --system --gid 10001 framepipe \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin framepipe

# Dependencies before the application jar: the larger layer changes less often.
COPY --from=build /src/server/target/lib/ /opt/framepipe/lib/
COPY --from=build /src/server/target/framepipe.jar /opt/framepipe/framepipe.jar
COPY config/framepipe.yaml /etc/framepipe/framepipe.yaml
COPY LICENSE /opt/framepipe/LICENSE

# Settings: the file above, overridden by FRAMEPIPE_* variables (FRAMEPIPE_FRAME_PORT, ...).
# JVM flags a deployment may want to change live in JDK_JAVA_OPTIONS (replace it as a whole).
# Memory sized for what the service needs (docs/footprint.md), as bin/framepipe sizes it: G1 (it
# gives memory back and wakes nobody when idle; ZGC's director wakes 100 times a second), a heap
# of at most 256 MiB starting at 16 MiB, 384 MiB of direct memory (Netty's buffers; 3/4 of it is
# the large frames' direct-memory-budget). With metaspace, code cache, threads and the GC, the
# worst case stays under 1 GiB (the manifests' limit); idle, the container holds about 170 MiB.
# No perf data file: the root file system may be read-only.
ENV FRAMEPIPE_CONFIG=/etc/framepipe/framepipe.yaml \
    FRAMEPIPE_BIND_ADDRESS=0.0.0.0 \
    JDK_JAVA_OPTIONS="-XX:+UseG1GC -Xms16m -Xmx256m -XX:MaxDirectMemorySize=384m -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData -Xlog:disable -Xlog:all=warning:stderr"

# The JVM's ahead-of-time cache (JDK 25: classes loaded and linked, method profiles), made here
# from a training run of the service with this image's JRE, jars and JVM options, which is what a
# cache needs to be used (bin/train-aot-cache). The load generator and the script are mounted for
# this step only: they are not in the image. The entry point below runs with -XX:AOTCache; with
# different JDK_JAVA_OPTIONS (another GC, a heap of 32 GiB or more) the JVM prints [error][aot]
# lines and starts without the cache, and the start-up log says so.
RUN --mount=type=bind,from=build,source=/src/tools/target,target=/tmp/tools \
    --mount=type=bind,source=bin/train-aot-cache,target=/tmp/train-aot-cache \
    bash /tmp/train-aot-cache /opt/framepipe/framepipe.aot /opt/framepipe/framepipe.jar /tmp/tools/framepipe-tools.jar \
      --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dframepipe.home=/opt/framepipe \
 && chmod 644 /opt/framepipe/framepipe.aot && rm -f /tmp/libnetty* /tmp/*.so

# Open files: both ports' connections (max-connections 10000 + http-max-connections 100) and
# about 130 descriptors of the process itself must fit the container's open-file limit, or
# start-up stops with a message naming the limit and the settings. An image cannot set that
# limit; the engine does: docker run --ulimit nofile=65536, compose's ulimits (compose.yaml),
# Kubernetes the container runtime's default (docker/README.md). The JVM raises its soft limit
# to the hard one at start (-XX:+MaxFDLimit, on by default: never turn it off here), so the
# hard limit is what counts; the runtimes' defaults (524288 or 1048576) cover the defaults.
USER 10001:10001
WORKDIR /opt/framepipe
EXPOSE 7070 9464

# Docker-format images only (podman's default OCI format ignores it); Kubernetes uses probes.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/${FRAMEPIPE_HTTP_PORT:-9464} && printf "GET /health/ready HTTP/1.0\r\n\r\n" >&3 && head -n1 <&3 | grep -q " 200 "'

# Exec form, java itself: the JVM is PID 1 and receives SIGTERM directly, drains (answers what
# it has read, declines the rest, closes connections cleanly) and exits 0.
# The options before -XX:AOTCache are the training run's (above): keep them in step.
ENTRYPOINT ["java", "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", \
            "-Dframepipe.home=/opt/framepipe", "-XX:AOTCache=/opt/framepipe/framepipe.aot", \
            "-jar", "/opt/framepipe/framepipe.jar"]
CMD ["serve"]
