/*
 * synth.c — `jiko synth`: write synthetic incidents that reproduce a
 * published year (synth.h), and the year before it for the changes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "num.h"
#include "outfile.h"
#include "synth.h"

#ifndef JIKO_DATADIR
#define JIKO_DATADIR "."
#endif

static void help(FILE *out)
{
    fputs("usage: jiko synth --fy YEAR [--seed N] [--no-prev] [--out FILE] [--stats-dir DIR]\n"
          "\n"
          "Write synthetic incidents (JSON Lines) that, imported with 'jiko import' and\n"
          "reported with 'jiko report --fy YEAR', reproduce the figures MIC published for\n"
          "that fiscal year (stats/fyYEAR.conf), with the year before it (stats/fyYEAR-1.conf)\n"
          "so that the changes in points come out too.  The real serious accidents of the\n"
          "year are included as recorded; every other record is synthetic, and its operator\n"
          "is named \"... (synthetic)\".  The same seed gives the same output.\n"
          "\n"
          "  --fy YEAR          fiscal year to reproduce (2021 is bundled; 2020 as its previous year)\n"
          "  --seed N           generator seed (default 1)\n"
          "  --no-prev          leave out the previous year\n"
          "  --out FILE         write to FILE instead of standard output\n"
          "  --stats-dir DIR    directory of fyYEAR.conf files (default: the bundled stats/)\n"
          "\n"
          "Example:  jiko synth --fy 2021 > fy2021.jsonl && jiko import fy2021.jsonl &&\n"
          "          jiko report --fy 2021\n"
          "Exit status: 0 ok, 2 usage, 3 figures/catalogs/rulebooks, 4 output.\n",
          out);
}

int cmd_synth(int argc, char **argv)
{
    static const struct option lo[] = {
        {"fy", required_argument, NULL, 'y'},        {"seed", required_argument, NULL, 's'},
        {"no-prev", no_argument, NULL, 'n'},         {"out", required_argument, NULL, 'o'},
        {"stats-dir", required_argument, NULL, 'S'}, {"rules-dir", required_argument, NULL, 'R'},
        {"catalog-dir", required_argument, NULL, 'C'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int fy = 0, c;
    uint64_t seed = 1;
    bool prev = true;
    const char *out_path = NULL, *stats_dir = NULL, *rules_dir = NULL, *catalog_dir = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case 'y':
            if (cli_opt_fy("synth", optarg, &fy))
                return CLI_USAGE;
            break;
        case 's':
            if (!num_parse_u64(optarg, &seed)) {
                cli_error("synth", "--seed expects a whole number, got '%s'", optarg);
                return CLI_USAGE;
            }
            break;
        case 'n': prev = false; break;
        case 'o': out_path = optarg; break;
        case 'S': stats_dir = optarg; break;
        case 'R': rules_dir = optarg; break;
        case 'C': catalog_dir = optarg; break;
        case 'h': help(stdout); return CLI_OK;
        default: help(stderr); return CLI_USAGE;
        }
    }
    if (!fy || optind != argc) {
        cli_error("synth", optind != argc ? "unexpected argument '%s'" : "give the fiscal year: --fy YEAR%s",
                  optind != argc ? argv[optind] : "");
        return CLI_USAGE;
    }
    if (!stats_dir)
        stats_dir = getenv("JIKO_STATS_DIR");
    if (!stats_dir || !*stats_dir)
        stats_dir = JIKO_DATADIR "/stats";
    cli_env env;
    int rc = cli_env_load(&env, rules_dir, catalog_dir);
    if (rc)
        return rc;
    /* never over the figures this command reads */
    char cur[4096], before[4096];
    snprintf(cur, sizeof cur, "%s/fy%d.conf", stats_dir, fy);
    snprintf(before, sizeof before, "%s/fy%d.conf", stats_dir, fy - 1);
    const char *guard[] = {cur, before, NULL};
    outfile of;
    jiko_error oerr;
    if (outfile_open(&of, out_path, guard, "--out", &oerr)) {
        rc = cli_fail("synth", &oerr);
        cli_env_free(&env);
        return rc == CLI_REJECTED ? CLI_USAGE : rc;
    }
    FILE *out = of.fp;
    rc = CLI_OK;
    for (int k = 0; k < (prev ? 2 : 1) && rc == CLI_OK; k++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/fy%d.conf", stats_dir, fy - k);
        if (k == 1 && access(path, R_OK) != 0) {
            fprintf(stderr, "jiko synth: no figures for FY%d (%s); previous year left out\n",
                    fy - 1, path);
            break;
        }
        synth_stats st;
        jiko_error err;
        error_clear(&err);
        if (synth_year(out, path, JIKO_DATADIR, &env.cat, &env.rules, fy - k, seed, &st, &err)) {
            rc = cli_fail("synth", &err);
            break;
        }
        fprintf(stderr,
                "jiko synth: FY%d: %ld serious-accident reports, %ld detailed-form and %ld "
                "simple-form reports from %ld and %ld operators\n",
                fy - k, st.serious_records, st.detailed + st.serious_records, st.simple,
                st.operators_detailed, st.operators_simple);
    }
    if (rc != CLI_OK) {
        outfile_abort(&of);
    } else if (outfile_commit(&of, &oerr)) {
        rc = cli_fail("synth", &oerr);
    }
    cli_env_free(&env);
    return rc;
}
