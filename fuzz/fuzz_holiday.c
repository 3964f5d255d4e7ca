/*
 * fuzz_holiday.c — libFuzzer target for the holiday calendar reader: the key
 * file format and its interpretation (holiday.c).  An accepted calendar is
 * also walked: every day of its first year is moved to the next working day,
 * which must never run away or leave the covered years silently.
 */
#include <stdint.h>
#include <stdlib.h>

#include "conf.h"
#include "holiday.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    conf_file f;
    jiko_error err;
    char buf[ERROR_TEXT_MAX];
    if (conf_parse((const char *)data, size, "fuzz.conf", &f, &err)) {
        error_format(&err, buf, sizeof buf);
        return 0;
    }
    holiday_calendar c;
    int rc = holiday_from_conf(&c, &f, &err);
    conf_free(&f);
    if (rc) {
        error_format(&err, buf, sizeof buf);
        return 0;
    }
    jst_date d = {c.first_year, 1, 1};
    for (int i = 0; i < 366; i++, d = jst_add_days(d, 1)) {
        jst_date out;
        int gap = 0;
        if (holiday_next_open(&c, d, &out, &gap) == 0) {
            if (jst_compare_dates(out, d) < 0 || holiday_kind_of(&c, out, NULL) != HOLIDAY_OPEN)
                abort();
        } else if (gap >= c.first_year && gap <= c.last_year) {
            abort(); /* a gap must be a year the calendar does not cover */
        }
        (void)holiday_why(&c, d, i & 1);
    }
    holiday_free(&c);
    return 0;
}
