#!/usr/bin/env bash
# Builds a minimal hsdis (the HotSpot disassembler plugin) over capstone and installs it into the
# JDK, so that JMH's `-prof perfasm` and -XX:+PrintAssembly print instructions instead of hex.
# Temurin ships no hsdis; Debian's libhsdis0-fcml exports only the old `decode_instructions`,
# while JDK 25 calls `decode_instructions_virtual`. Needs root for apt-get and the JDK directory.
#
#   src/jmh/scripts/hsdis-capstone.sh [JAVA_HOME]
#   java -jar target/benchmarks.jar 'RingBenchmark.singleThread_ring$' -f 1 -prof 'perfasm:events=cpu-clock'
# (cpu-clock: this VM exposes no hardware counters to perf.)
set -euo pipefail
JDK="${1:-${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}}"
command -v gcc >/dev/null && [ -f /usr/include/capstone/capstone.h ] \
  || apt-get install -y gcc libcapstone-dev >/dev/null
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/hsdis.c" <<'C'
/* hsdis for x86-64 over capstone: one "insn" event and one line per instruction. */
#include <stdint.h>
#include <capstone/capstone.h>

void *decode_instructions_virtual(uintptr_t start_va, uintptr_t end_va,
                                  unsigned char *buffer, uintptr_t length,
                                  void *(*event_callback)(void *, const char *, void *), void *event_stream,
                                  int (*printf_callback)(void *, const char *, ...), void *printf_stream,
                                  const char *options, int newline) {
  (void) end_va; (void) options;
  csh handle;
  cs_insn *insn;
  uintptr_t next = start_va;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &handle) != CS_ERR_OK) {
    return (void *) start_va;
  }
  size_t count = cs_disasm(handle, buffer, length, start_va, 0, &insn);
  for (size_t i = 0; i < count; i++) {
    if (event_callback) event_callback(event_stream, "insn", (void *) (uintptr_t) insn[i].address);
    printf_callback(printf_stream, "%s\t%s", insn[i].mnemonic, insn[i].op_str);
    next = insn[i].address + insn[i].size;
    if (event_callback) event_callback(event_stream, "/insn", (void *) next);
    if (newline) printf_callback(printf_stream, "\n");
  }
  if (count > 0) cs_free(insn, count);
  cs_close(&handle);
  return (void *) next;
}
C
gcc -O2 -shared -fPIC -o "$WORK/hsdis-amd64.so" "$WORK/hsdis.c" -lcapstone
install -m 0644 "$WORK/hsdis-amd64.so" "$JDK/lib/hsdis-amd64.so"
"$JDK/bin/java" -XX:+UnlockDiagnosticVMOptions -XX:+PrintAssembly -version 2>&1 | grep -m1 -E '^\s+0x[0-9a-f]+:\s+[a-z]' \
  && echo "hsdis installed in $JDK/lib" || { echo "hsdis built but the JVM printed no instructions" >&2; exit 1; }
