/*
 * fuzz_env.h — the project's catalog and rulebooks for the fuzz targets,
 * loaded once (libFuzzer gives no context pointer; they are read-only after
 * loading).  Header-only: each target is its own program.
 */
#ifndef JIKO_FUZZ_ENV_H
#define JIKO_FUZZ_ENV_H

#include <stdlib.h>

#include "catalog.h"
#include "rules.h"

typedef struct fuzz_data {
    catalog cat;
    rules_set rules;
} fuzz_data;

/* The shipped data; with_rules false loads the catalog only.  Aborts if the
 * data does not load: a fuzz run without it would test nothing. */
static fuzz_data *fuzz_data_get(int with_rules)
{
    static fuzz_data *d;
    if (!d) {
        jiko_error err;
        d = calloc(1, sizeof *d);
        if (!d || catalog_load(&d->cat, JIKO_DATADIR "/catalogs", &err) ||
            (with_rules && rules_load_dir(&d->rules, JIKO_DATADIR "/rules", &d->cat, &err)))
            abort();
    }
    return d;
}

#endif
