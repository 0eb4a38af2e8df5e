/* Gaps in a thread's run: counts every step of CLOCK_MONOTONIC of 50 us or more, and those of
 * 1 to 5 ms, over SECONDS. One per vCPU at once (docs/performance.md, "What limits it"):
 *   gcc -O2 -o gap load-tests/clock-gap.c && (taskset -c 0 ./gap 15 & taskset -c 1 ./gap 15; wait) */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static long long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
int main(int argc, char **argv) {  /* ./gap SECONDS */
  long long end = now() + atof(argv[1]) * 1e9, last = now(), lost = 0; long ms1to5 = 0;
  for (long long t; (t = now()) < end; last = t)
    if (t - last >= 50000) { lost += t - last; if (t - last >= 1000000 && t - last < 5000000) ms1to5++; }
  printf("gaps of 1-5 ms: %ld; lost %.2f ms/s\n", ms1to5, lost / 1e6 / atof(argv[1]));
}
