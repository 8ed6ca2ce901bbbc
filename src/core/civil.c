/*
 * civil.c — conversion between civil dates and day numbers (days since 1970-01-01,
 * proleptic Gregorian), after Howard Hinnant's public-domain algorithms. Exact for every
 * int32 day; no tables, no time zone.
 */
#include "core/core.h"


int32_t st_days_from_civil(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int)doe - 719468);
}

void st_civil_from_days(int32_t z0, int *y, unsigned *m, unsigned *d)
{
    int64_t z = (int64_t)z0 + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400) + (*m <= 2);
}

bool st_valid_civil(int y, unsigned m, unsigned d)
{
    static const unsigned char mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
    unsigned lim = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) lim = 29;
    return d <= lim;
}

strata_status strata_day_parse(const char *text, int32_t *out_day)
{
    *out_day = STRATA_DAY_NONE;
    if (!text || strlen(text) != 10 || text[4] != '-' || text[7] != '-')
        return STRATA_EINVAL;
    int v[3] = {0, 0, 0};
    const int pos[3][2] = {{0, 4}, {5, 2}, {8, 2}};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < pos[k][1]; i++) {
            char c = text[pos[k][0] + i];
            if (c < '0' || c > '9') return STRATA_EINVAL;
            v[k] = v[k] * 10 + (c - '0');
        }
    if (!st_valid_civil(v[0], (unsigned)v[1], (unsigned)v[2])) return STRATA_EINVAL;
    *out_day = st_days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]);
    return STRATA_OK;
}

void strata_day_format(int32_t day, char buf[11])
{
    int y;
    unsigned m, d;
    if (day == STRATA_DAY_NONE) {
        buf[0] = '\0';
        return;
    }
    st_civil_from_days(day, &y, &m, &d);
    if (y < 0 || y > 9999) y = 0; /* out of printable range; days that far out are not data */
    buf[0] = (char)('0' + y / 1000);
    buf[1] = (char)('0' + y / 100 % 10);
    buf[2] = (char)('0' + y / 10 % 10);
    buf[3] = (char)('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + m / 10);
    buf[6] = (char)('0' + m % 10);
    buf[7] = '-';
    buf[8] = (char)('0' + d / 10);
    buf[9] = (char)('0' + d % 10);
    buf[10] = '\0';
}
