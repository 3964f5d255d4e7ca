/*
 * live_send.c — the load generator of bench/live_bench.sh: Prometheus
 * remote_write bodies sent to a receiver (jiko serve or Prometheus itself,
 * the same bodies to both), as fast as it takes them, for a bounded time.
 *
 * The series: kpi_bench{job="bench", site="sNNNNNN"}, N of them, in bodies
 * of 2,000 samples (Prometheus' default max_samples_per_send), one sample
 * per series per round; round r carries time start + r x 100 ms, so that
 * every series' samples arrive in order (a series' bodies are all sent by
 * one connection, one after the other) and near now (Prometheus refuses
 * samples far in the past).  Values: 0.01 with a small deterministic noise.
 *
 * --spike-at S: S seconds in (and past round 300, after the detector's
 * warm-up), connection 0 sends one body in which series 0
 * jumps to 0.95 (watched by the benchmark's [watch]): the time from sending
 * it to its answer is the time from the first anomalous sample's arrival to
 * the incident committed (jiko answers only after the commit), printed as
 * "spike_ms".
 *
 * usage: live_send HOST PORT PATH TOKEN|- SERIES SECONDS CONNS [--spike-at S]
 * prints one line: key=value figures (samples_per_s, bodies, non2xx, p50_ms,
 * p99_ms, spike_ms, next_start_ms: give it as LIVE_SEND_START_MS to the next
 * run against the same receiver, whose series must not go back in time).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <snappy-c.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "rw_body.h"
#include "remote.pb-c.h"

#define PER_BODY 2000
/* time between rounds: short, so that many runs stay near now */
#define ROUND_MS 100
#define SPIKE_MIN_ROUND 300
#define MAX_LAT 1000000

typedef struct opts {
    const char *host, *path, *token;
    int port;
    long series;
    double seconds, spike_at;
    int conns;
    int64_t start_ms;
} opts;

typedef struct worker {
    const opts *o;
    int id;
    long bodies, samples, non2xx, errors, rounds;
    double *lat;
    long nlat;
    double spike_ms;
} worker;

/* The benchmark's values: 0.01 with a small deterministic noise; in the
 * spike body series 0 jumps to 0.95. */
typedef struct round_values {
    long r;
    bool spike;
} round_values;

static double round_value(void *ctx, long s)
{
    const round_values *v = ctx;
    return v->spike && s == 0 ? 0.95 : 0.01 + 0.0001 * (double)((s * 7 + v->r * 3) % 5);
}

static int dial(const opts *o)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    inet_pton(AF_INET, o->host, &a.sin_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Send one request and read its answer: the status, or -1. */
static int post(int fd, const opts *o, const char *body, size_t len)
{
    char head[1024];
    int hn = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-protobuf\r\n"
                      "Content-Encoding: snappy\r\nX-Prometheus-Remote-Write-Version: 0.1.0\r\n"
                      "%s%s%sContent-Length: %zu\r\n\r\n",
                      o->path, o->host, o->token ? "Authorization: Bearer " : "",
                      o->token ? o->token : "", o->token ? "\r\n" : "", len);
    if (send_all(fd, head, (size_t)hn) || send_all(fd, body, len))
        return -1;
    char buf[8192];
    size_t got = 0;
    char *end = NULL;
    while (!end) {
        ssize_t r = recv(fd, buf + got, sizeof buf - 1 - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
        buf[got] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (!end && got == sizeof buf - 1)
            return -1;
    }
    int status = atoi(buf + 9);
    if (status / 100 != 2 && getenv("LIVE_SEND_DEBUG"))
        fprintf(stderr, "live_send: %.300s\n", buf);
    long clen = 0;
    char *cl = strstr(buf, "\r\nContent-Length:"); /* as MHD and Go write it */
    if (!cl)
        cl = strstr(buf, "\r\ncontent-length:");
    if (cl)
        clen = atol(cl + 17);
    size_t have = got - (size_t)(end + 4 - buf);
    while ((long)have < clen) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
    return status;
}

static void *run(void *arg)
{
    worker *w = arg;
    const opts *o = w->o;
    long per_round = (o->series + PER_BODY - 1) / PER_BODY;
    int fd = dial(o);
    if (fd < 0) {
        w->errors++;
        return NULL;
    }
    bool spiked = o->spike_at <= 0;
    /* this connection's chunks of series, round after round: a series is
     * always sent by the same connection, so its samples arrive in order */
    long mine = 0;
    for (long c = w->id; c < per_round; c += o->conns)
        mine++;
    if (!mine) {
        close(fd);
        return NULL;
    }
    /* each chunk's body encoded once, before the clock starts: a round only
     * patches values and times and compresses (rw_body.h) */
    rw_template *tpl = calloc((size_t)mine, sizeof *tpl);
    if (!tpl)
        abort();
    for (long m = 0; m < mine; m++) {
        long first = (w->id + m * o->conns) * PER_BODY;
        rw_template_init(&tpl[m], first, first + PER_BODY > o->series ? o->series - first : PER_BODY,
                         o->start_ms);
    }
    double t0 = bench_now_s();
    for (long k = 0;; k++) {
        double now = bench_now_s();
        if (now - t0 >= o->seconds)
            break;
        long r = k / mine, chunk = w->id + (k % mine) * o->conns;
        long first = chunk * PER_BODY;
        long n = first + PER_BODY > o->series ? o->series - first : PER_BODY;
        /* after the detector's warm-up of 150 samples (detect.c), with room */
        bool spike = !spiked && w->id == 0 && chunk == 0 && now - t0 >= o->spike_at &&
                     r >= SPIKE_MIN_ROUND;
        size_t len;
        round_values rv = {r, spike};
        const char *body = rw_template_body(&tpl[k % mine], o->start_ms + r * ROUND_MS,
                                            round_value, &rv, &len);
        double s0 = bench_now_s();
        int st = post(fd, o, body, len);
        double ms = (bench_now_s() - s0) * 1000;
        if (st < 0) {
            w->errors++;
            close(fd);
            if ((fd = dial(o)) < 0)
                break;
            continue;
        }
        if (spike) {
            spiked = true;
            w->spike_ms = ms;
        }
        w->bodies++;
        if (r + 1 > w->rounds)
            w->rounds = r + 1;
        if (st / 100 == 2)
            w->samples += n;
        else
            w->non2xx++;
        if (w->nlat < MAX_LAT)
            w->lat[w->nlat++] = ms;
    }
    if (fd >= 0)
        close(fd);
    for (long m = 0; m < mine; m++)
        rw_template_free(&tpl[m]);
    free(tpl);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: live_send HOST PORT PATH TOKEN|- SERIES SECONDS CONNS "
                        "[--spike-at S]\n");
        return 2;
    }
    opts o = {argv[1], argv[3], strcmp(argv[4], "-") ? argv[4] : NULL, atoi(argv[2]),
              atol(argv[5]), atof(argv[6]), -1, atoi(argv[7]), 0};
    if (argc >= 10 && strcmp(argv[8], "--spike-at") == 0)
        o.spike_at = atof(argv[9]);
    const char *start = getenv("LIVE_SEND_START_MS");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    o.start_ms = start && *start ? atoll(start) : (int64_t)now.tv_sec * 1000 - 600000;
    worker *w = calloc((size_t)o.conns, sizeof *w);
    pthread_t *th = calloc((size_t)o.conns, sizeof *th);
    double t0 = bench_now_s();
    for (int i = 0; i < o.conns; i++) {
        w[i] = (worker){.o = &o, .id = i, .lat = malloc(MAX_LAT * sizeof(double)), .spike_ms = -1};
        pthread_create(&th[i], NULL, run, &w[i]);
    }
    long bodies = 0, samples = 0, non2xx = 0, errors = 0, nlat = 0, rounds = 0;
    double spike = -1;
    for (int i = 0; i < o.conns; i++) {
        pthread_join(th[i], NULL);
        bodies += w[i].bodies, samples += w[i].samples, non2xx += w[i].non2xx;
        errors += w[i].errors, nlat += w[i].nlat;
        if (w[i].rounds > rounds)
            rounds = w[i].rounds;
        if (w[i].spike_ms >= 0)
            spike = w[i].spike_ms;
    }
    double secs = bench_now_s() - t0;
    double *all = malloc((size_t)(nlat ? nlat : 1) * sizeof *all);
    long k = 0;
    for (int i = 0; i < o.conns; i++)
        for (long j = 0; j < w[i].nlat; j++)
            all[k++] = w[i].lat[j];
    qsort(all, (size_t)nlat, sizeof *all, cmp);
    printf("samples_per_s=%.0f bodies=%ld non2xx=%ld errors=%ld p50_ms=%.2f p99_ms=%.2f "
           "spike_ms=%.2f seconds=%.1f next_start_ms=%lld\n",
           samples / secs, bodies, non2xx, errors, nlat ? all[nlat / 2] : 0,
           nlat ? all[(long)(nlat * 0.99)] : 0, spike, secs,
           (long long)(o.start_ms + (rounds + 1) * ROUND_MS));
    return errors || non2xx ? 1 : 0;
}
