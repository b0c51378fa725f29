/* ISO 4217 currencies and exact decimal <-> minor-unit conversion. Amounts
 * never pass through binary floating point (SPEC §2). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"

struct currency {
    char code[4];
    int numeric;
    int exponent;
};

/* Active ISO 4217 codes, sorted by code. Left out: precious metals, XDR
 * and testing codes (no minor unit), and CLF/UYW, whose exponent of 4 is
 * outside the 0..3 range money.h promises. */
static const struct currency currencies[] = {
    {"AED", 784, 2}, {"AFN", 971, 2}, {"ALL", 8, 2},   {"AMD", 51, 2},  {"ANG", 532, 2},
    {"AOA", 973, 2}, {"ARS", 32, 2},  {"AUD", 36, 2},  {"AWG", 533, 2}, {"AZN", 944, 2},
    {"BAM", 977, 2}, {"BBD", 52, 2},  {"BDT", 50, 2},  {"BGN", 975, 2}, {"BHD", 48, 3},
    {"BIF", 108, 0}, {"BMD", 60, 2},  {"BND", 96, 2},  {"BOB", 68, 2},  {"BOV", 984, 2},
    {"BRL", 986, 2}, {"BSD", 44, 2},  {"BTN", 64, 2},  {"BWP", 72, 2},  {"BYN", 933, 2},
    {"BZD", 84, 2},  {"CAD", 124, 2}, {"CDF", 976, 2}, {"CHE", 947, 2}, {"CHF", 756, 2},
    {"CHW", 948, 2}, {"CLP", 152, 0}, {"CNY", 156, 2}, {"COP", 170, 2}, {"COU", 970, 2},
    {"CRC", 188, 2}, {"CUP", 192, 2}, {"CVE", 132, 2}, {"CZK", 203, 2}, {"DJF", 262, 0},
    {"DKK", 208, 2}, {"DOP", 214, 2}, {"DZD", 12, 2},  {"EGP", 818, 2}, {"ERN", 232, 2},
    {"ETB", 230, 2}, {"EUR", 978, 2}, {"FJD", 242, 2}, {"FKP", 238, 2}, {"GBP", 826, 2},
    {"GEL", 981, 2}, {"GHS", 936, 2}, {"GIP", 292, 2}, {"GMD", 270, 2}, {"GNF", 324, 0},
    {"GTQ", 320, 2}, {"GYD", 328, 2}, {"HKD", 344, 2}, {"HNL", 340, 2}, {"HTG", 332, 2},
    {"HUF", 348, 2}, {"IDR", 360, 2}, {"ILS", 376, 2}, {"INR", 356, 2}, {"IQD", 368, 3},
    {"IRR", 364, 2}, {"ISK", 352, 0}, {"JMD", 388, 2}, {"JOD", 400, 3}, {"JPY", 392, 0},
    {"KES", 404, 2}, {"KGS", 417, 2}, {"KHR", 116, 2}, {"KMF", 174, 0}, {"KPW", 408, 2},
    {"KRW", 410, 0}, {"KWD", 414, 3}, {"KYD", 136, 2}, {"KZT", 398, 2}, {"LAK", 418, 2},
    {"LBP", 422, 2}, {"LKR", 144, 2}, {"LRD", 430, 2}, {"LSL", 426, 2}, {"LYD", 434, 3},
    {"MAD", 504, 2}, {"MDL", 498, 2}, {"MGA", 969, 2}, {"MKD", 807, 2}, {"MMK", 104, 2},
    {"MNT", 496, 2}, {"MOP", 446, 2}, {"MRU", 929, 2}, {"MUR", 480, 2}, {"MVR", 462, 2},
    {"MWK", 454, 2}, {"MXN", 484, 2}, {"MXV", 979, 2}, {"MYR", 458, 2}, {"MZN", 943, 2},
    {"NAD", 516, 2}, {"NGN", 566, 2}, {"NIO", 558, 2}, {"NOK", 578, 2}, {"NPR", 524, 2},
    {"NZD", 554, 2}, {"OMR", 512, 3}, {"PAB", 590, 2}, {"PEN", 604, 2}, {"PGK", 598, 2},
    {"PHP", 608, 2}, {"PKR", 586, 2}, {"PLN", 985, 2}, {"PYG", 600, 0}, {"QAR", 634, 2},
    {"RON", 946, 2}, {"RSD", 941, 2}, {"RUB", 643, 2}, {"RWF", 646, 0}, {"SAR", 682, 2},
    {"SBD", 90, 2},  {"SCR", 690, 2}, {"SDG", 938, 2}, {"SEK", 752, 2}, {"SGD", 702, 2},
    {"SHP", 654, 2}, {"SLE", 925, 2}, {"SOS", 706, 2}, {"SRD", 968, 2}, {"SSP", 728, 2},
    {"STN", 930, 2}, {"SVC", 222, 2}, {"SYP", 760, 2}, {"SZL", 748, 2}, {"THB", 764, 2},
    {"TJS", 972, 2}, {"TMT", 934, 2}, {"TND", 788, 3}, {"TOP", 776, 2}, {"TRY", 949, 2},
    {"TTD", 780, 2}, {"TWD", 901, 2}, {"TZS", 834, 2}, {"UAH", 980, 2}, {"UGX", 800, 0},
    {"USD", 840, 2}, {"USN", 997, 2}, {"UYI", 940, 0}, {"UYU", 858, 2}, {"UZS", 860, 2},
    {"VED", 926, 2}, {"VES", 928, 2}, {"VND", 704, 0}, {"VUV", 548, 0}, {"WST", 882, 2},
    {"XAF", 950, 0}, {"XCD", 951, 2}, {"XCG", 532, 2}, {"XOF", 952, 0}, {"XPF", 953, 0},
    {"YER", 886, 2}, {"ZAR", 710, 2}, {"ZMW", 967, 2}, {"ZWG", 924, 2},
};

#define N_CURRENCIES (sizeof currencies / sizeof currencies[0])

static const struct currency *currency_find(const char *code)
{
    if (!code) return NULL;
    for (size_t i = 0; i < N_CURRENCIES; i++)
        if (!strcmp(currencies[i].code, code)) return &currencies[i];
    return NULL;
}

int currency_exponent(const char *code)
{
    const struct currency *c = currency_find(code);
    return c ? c->exponent : -1;
}

/* ANG and its successor XCG share 532; the first in table order wins. */
const char *currency_from_numeric(int numeric)
{
    for (size_t i = 0; i < N_CURRENCIES; i++)
        if (currencies[i].numeric == numeric) return currencies[i].code;
    return NULL;
}

/* Written once at start-up, before any thread reads it. */
static const struct currency *allowed[N_CURRENCIES];
static size_t n_allowed;

static bool list_has(const struct currency *const *list, size_t n, const struct currency *c)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == c) return true;
    return false;
}

static char *trimmed_copy(const char *s, size_t len)
{
    for (; len && isspace((unsigned char)*s); len--)
        s++;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    char *out = malloc(len + 1);
    if (!out) return NULL;
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

/* Out of memory returns false with *bad left NULL. */
bool currency_allowlist_set(const char *csv, char **bad)
{
    const struct currency *list[N_CURRENCIES];
    size_t n = 0;
    const char *p = csv ? csv : "";
    *bad = NULL;
    for (;;) {
        size_t len = strcspn(p, ",");
        char *entry = trimmed_copy(p, len);
        if (!entry) return false;
        const struct currency *c = currency_find(entry);
        if (!c) {
            *bad = entry;
            return false;
        }
        free(entry);
        if (!list_has(list, n, c)) list[n++] = c;
        if (!p[len]) break;
        p += len + 1;
    }
    memcpy(allowed, list, n * sizeof list[0]);
    n_allowed = n;
    return true;
}

bool currency_allowed(const char *code)
{
    const struct currency *c = currency_find(code);
    return c && list_has(allowed, n_allowed, c);
}

void currency_allowlist_free(void)
{
    n_allowed = 0;
}

/* Accumulates one digit into *acc, refusing to exceed limit. */
static bool push_digit(uint64_t *acc, int digit, uint64_t limit)
{
    if (*acc > (limit - (uint64_t)digit) / 10) return false;
    *acc = *acc * 10 + (uint64_t)digit;
    return true;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool money_parse_decimal(const char *text, int exponent, int64_t *minor)
{
    if (!text || exponent < 0 || exponent > 18) return false;
    const char *p = text;
    bool neg = *p == '-';
    if (neg) p++;
    /* The magnitude of INT64_MIN is one more than INT64_MAX. */
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t acc = 0;
    if (!is_digit(*p)) return false;
    for (; is_digit(*p); p++)
        if (!push_digit(&acc, *p - '0', limit)) return false;
    int frac = 0;
    if (*p == '.') {
        if (!is_digit(*++p)) return false;
        for (; is_digit(*p); p++, frac++) {
            if (frac >= exponent) {
                if (*p != '0') return false;
            } else if (!push_digit(&acc, *p - '0', limit)) {
                return false;
            }
        }
    }
    if (*p) return false;
    for (; frac < exponent; frac++)
        if (!push_digit(&acc, 0, limit)) return false;
    *minor = neg && acc ? -(int64_t)(acc - 1) - 1 : (int64_t)acc;
    return true;
}

void money_format_decimal(int64_t minor, int exponent, char *buf, unsigned long len)
{
    if (!buf || len == 0) return;
    if (exponent < 0 || exponent > 18) exponent = 0;
    uint64_t mag = minor < 0 ? 0 - (uint64_t)minor : (uint64_t)minor;
    char tmp[48];
    size_t i = sizeof tmp;
    tmp[--i] = '\0';
    int written = 0;
    /* At least one digit before the point, then zero-padding as needed. */
    while (mag || written <= exponent) {
        if (exponent > 0 && written == exponent) tmp[--i] = '.';
        tmp[--i] = (char)('0' + mag % 10);
        mag /= 10;
        written++;
    }
    if (minor < 0) tmp[--i] = '-';
    snprintf(buf, len, "%s", tmp + i);
}
