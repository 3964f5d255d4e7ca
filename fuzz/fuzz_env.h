/*
 * fuzz_env.h — the project's catalog and rulebooks for the fuzz targets,
 * and an in-memory registry, made once (libFuzzer gives no context pointer; they are read-only after
 * loading).  Header-only: each target is its own program.
 */
#ifndef JIKO_FUZZ_ENV_H
#define JIKO_FUZZ_ENV_H

#include <stdlib.h>

#include "catalog.h"
#include "rules.h"
#include "store.h"

typedef struct fuzz_data {
    catalog cat;
    rules_set rules;
} fuzz_data;

/* The shipped data; with_rules false loads the catalog only.  Aborts if the
 * data does not load: a fuzz run without it would test nothing. */
static inline fuzz_data *fuzz_data_get(int with_rules)
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

/* An in-memory registry shared by many inputs (a fresh one per input
 * costs 20x), made anew every 5000 so that what is stored does not grow
 * without end. */
static inline store *fuzz_memory_store(void)
{
    static store *db;
    static long uses;
    jiko_error err;
    if (db && ++uses % 5000 == 0) {
        store_close(db);
        db = NULL;
    }
    if (!db && store_open(&db, ":memory:", &err))
        abort();
    return db;
}

#endif
