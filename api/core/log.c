/* JSON-lines logging. Lines are written with one fputs so concurrent
 * threads never interleave within a line. */
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* The calendar part changes once a second; each thread keeps its own. */
void log_timestamp(char *buf, unsigned long len)
{
    static _Thread_local time_t base_sec = -1;
    static _Thread_local char base[24];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != base_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        base_sec = ts.tv_sec;
    }
    snprintf(buf, len, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

/* Text that goes into a JSON string as it is. */
static bool json_plain(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || *s == '"' || *s == '\\')
            return false;
    return true;
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

/* Written once per request, so the usual line (a plain path, a validated
 * request id) is formatted directly; anything else goes through jansson,
 * which escapes it. */
void log_access(const char *request_id, const char *client, const char *method, const char *path,
                unsigned status, double duration_ms)
{
    char ts[32];
    log_timestamp(ts, sizeof ts);
    char fast[1024];
    if (json_plain(path) && json_plain(request_id) && json_plain(method) &&
        (!client || json_plain(client))) {
        int n =
            snprintf(fast, sizeof fast,
                     "{\"time\":\"%s\",\"level\":\"info\",\"request_id\":\"%s\",%s%s%s"
                     "\"method\":\"%s\",\"path\":\"%s\",\"status\":%u,\"duration_ms\":%.3f}\n",
                     ts, request_id, client ? "\"client\":\"" : "\"client\":null",
                     client ? client : "", client ? "\"," : ",", method, path, status, duration_ms);
        /* write(2) rather than stdio: no lock shared by all threads, and
         * one line is one write (Linux keeps the file offset atomic). */
        if (n > 0 && (size_t)n < sizeof fast && write(STDERR_FILENO, fast, (size_t)n) == n) return;
    }
    json_t *line = json_pack("{s:s, s:s, s:s, s:s*, s:s, s:s, s:i, s:f}", "time", ts, "level",
                             "info", "request_id", request_id, "client", client, "method", method,
                             "path", "", "status", (int)status, "duration_ms", duration_ms);
    /* a path that is not valid UTF-8 is logged by length only */
    json_t *p = json_string(path);
    if (line && p) json_object_set_new(line, "path", p);
    emit(line);
}
