/* Core-to-core round trip: one cache line bounced between threads pinned to CPUs 0 and 1.
 * gcc -O2 -pthread -o pingpong pingpong.c && ./pingpong 40   (docs/performance-ring.md) */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static _Alignas(128) atomic_long ball;
static atomic_int stop;
static void pin(int cpu) { cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpu, &s); pthread_setaffinity_np(pthread_self(), sizeof s, &s); }
static void *pong(void *arg) {           /* CPU 1: answers each odd value with the next one */
  pin(1);
  for (long expect = 1; !atomic_load_explicit(&stop, memory_order_relaxed);)
    if (atomic_load_explicit(&ball, memory_order_acquire) == expect) {
      atomic_store_explicit(&ball, expect + 1, memory_order_release);
      expect += 2;
    }
  return 0;
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {        /* CPU 0: serves, waits for the answer, prints every 0.5 s */
  int secs = argc > 1 ? atoi(argv[1]) : 20;
  pthread_t t; pthread_create(&t, 0, pong, 0);
  pin(0);
  long v = 0, trips = 0; double start = now(), mark = start;
  while (now() - start < secs) {
    atomic_store_explicit(&ball, v + 1, memory_order_release);
    while (atomic_load_explicit(&ball, memory_order_acquire) != v + 2) { }
    v += 2; trips++;
    if ((trips & 1023) == 0 && now() - mark >= 0.5) {
      double n = now();
      printf("%6.1f s  %6.0f ns per round trip\n", n - start, (n - mark) * 1e9 / trips);
      trips = 0; mark = n;
    }
  }
  atomic_store(&stop, 1); pthread_join(t, 0);
  return 0;
}
