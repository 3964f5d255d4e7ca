/*
 * proptest.h — the small harness of the detectors' plain-C property tests
 * (test_detect.c, test_ensemble.c, test_telecom.c): a test case that counts
 * its failed checks, CHECK naming the test, line and condition, and the
 * seeded noise every generated series uses.
 */
#ifndef JIKO_PROPTEST_H
#define JIKO_PROPTEST_H

#include <stdint.h>
#include <stdio.h>

/* The test being run and its failed checks. */
typedef struct tcase {
    const char *name;
    int fails;
} tcase;

static inline void check(tcase *t, int ok, const char *file, int line, const char *cond)
{
    if (ok)
        return;
    t->fails++;
    fprintf(stderr, "FAIL %s: %s:%d %s\n", t->name, file, line, cond);
}
#define CHECK(c) check(t, (c) != 0, __FILE__, __LINE__, #c)

/* xorshift64: uniform in [0, 1), seeded per test (*rng must not be 0). */
static inline double urand(uint64_t *rng)
{
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    return (double)(*rng >> 11) * (1.0 / 9007199254740992.0);
}

/* About N(0, 1): the sum of four uniforms, scaled (no tails beyond 3.5). */
static inline double gauss4(uint64_t *rng)
{
    return (urand(rng) + urand(rng) + urand(rng) + urand(rng) - 2.0) * 1.7320508075688772;
}

#endif
