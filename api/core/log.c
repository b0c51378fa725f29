/* JSON-lines logging. Lines are written with one fputs so concurrent
 * threads never interleave within a line. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"

void log_timestamp(char *buf, unsigned long len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

static void emit(json_t *line)
{
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    if (!text) return;
    fprintf(stderr, "%s\n", text);
    free(text);
}

void log_msg(const char *level, const char *fmt, ...)
{
    char msg[1024], ts[32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_timestamp(ts, sizeof ts);
    /* a message that is not valid UTF-8 (say, a libpq error quoting bytes a
     * client sent) is logged as null rather than dropped with the line */
    emit(json_pack("{s:s, s:s, s:o?}", "time", ts, "level", level, "msg", json_string(msg)));
}

void log_access(const char *request_id, const char *method, const char *path, unsigned status,
                double duration_ms)
{
    char ts[32];
    log_timestamp(ts, sizeof ts);
    json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:f}", "time", ts, "level", "info",
                             "request_id", request_id, "method", method, "path", "", "status",
                             (int)status, "duration_ms", duration_ms);
    /* a path that is not valid UTF-8 is logged by length only */
    json_t *p = json_string(path);
    if (line && p) json_object_set_new(line, "path", p);
    emit(line);
}
