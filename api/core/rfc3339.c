/* RFC 3339 times (include/rfc3339.h): one parser for what clients and
 * providers send. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rfc3339.h"

/* Reads exactly n digits at *p into *out and advances *p. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect(const char **p, const char *chars)
{
    if (!**p || !strchr(chars, **p)) return false;
    (*p)++;
    return true;
}

int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool parse_offset(const char **p, int *offset)
{
    if (expect(p, "Zz")) {
        *offset = 0;
        return true;
    }
    char sign = **p;
    int oh, om;
    if (!expect(p, "+-") || !digits(p, 2, &oh) || !expect(p, ":") || !digits(p, 2, &om) ||
        oh > 23 || om > 59)
        return false;
    *offset = (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    return true;
}

/* Sub-second precision is dropped: the ledger keeps whole seconds. */
static bool skip_fraction(const char **p, bool strict)
{
    if (**p != '.') return true;
    int n = 0;
    for ((*p)++; **p >= '0' && **p <= '9'; (*p)++)
        n++;
    return n >= 1 && (!strict || n <= 9);
}

bool rfc3339_parse(const char *s, bool strict, long long *out)
{
    const char *p = s;
    int y, mo, d, h, mi, sec, offset;
    if (!digits(&p, 4, &y) || !expect(&p, "-") || !digits(&p, 2, &mo) || !expect(&p, "-") ||
        !digits(&p, 2, &d) || !expect(&p, "Tt") || !digits(&p, 2, &h) || !expect(&p, ":") ||
        !digits(&p, 2, &mi) || !expect(&p, ":") || !digits(&p, 2, &sec) ||
        !skip_fraction(&p, strict) || !parse_offset(&p, &offset) || *p)
        return false;
    if ((strict && y < 1) || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 60)
        return false;
    /* A leap second is folded into the one before it. */
    if (sec == 60) sec = 59;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    return true;
}

bool rfc3339_to_unix(const char *s, long long *out)
{
    return rfc3339_parse(s, false, out);
}

bool unix_to_rfc3339(long long t, bool millis, char *dst, size_t dst_len)
{
    if (millis) t /= 1000;
    /* Year 0001..9999 keeps the fixed-width form. */
    if (t < -62135596800LL || t > 253402300799LL) return false;
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) return false;
    int n = snprintf(dst, dst_len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    return n > 0 && (size_t)n < dst_len;
}

bool rfc3339_normalize(const char *in, char *dst, size_t dst_len)
{
    long long t;
    if (!*in) {
        if (!dst_len) return false;
        dst[0] = '\0';
        return true;
    }
    return rfc3339_to_unix(in, &t) && unix_to_rfc3339(t, false, dst, dst_len);
}
