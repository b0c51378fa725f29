/* JSON-lines logging. Each line is written whole by one write(2) (or
 * with others, never split), so concurrent threads never interleave
 * within a line. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* Appends src to the line at *at, never past end; false when it does not fit. */
static bool put(char **at, char *end, const char *src, size_t n)
{
    if ((size_t)(end - *at) < n) return false;
    memcpy(*at, src, n);
    *at += n;
    return true;
}

static bool put_str(char **at, char *end, const char *src)
{
    return put(at, end, src, strlen(src));
}

/* value in decimal, at least `width` digits */
static bool put_uint(char **at, char *end, unsigned long long value, int width)
{
    char digits[24];
    int n = 0;
    do {
        digits[sizeof digits - 1 - n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value || n < width);
    return put(at, end, digits + sizeof digits - n, (size_t)n);
}

/* The calendar part changes once a second; each thread keeps its own.
 * Formatted by hand: this runs once per request. */
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
    char *at = buf, *end = buf + len - 1;
    if (len == 0) return;
    if (!put_str(&at, end, base) || !put(&at, end, ".", 1) ||
        !put_uint(&at, end, (unsigned long long)(ts.tv_nsec / 1000000), 3) ||
        !put(&at, end, "Z", 1))
        at = buf;
    *at = '\0';
}

/* Text that goes into a JSON string as it is. */
static bool json_plain(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f || *s == '"' || *s == '\\')
            return false;
    return true;
}

/* Access lines wait here, up to FLUSH_MS or until the buffer is full,
 * so that a request costs no write(2) of its own; every other line
 * flushes them first and is written at once, keeping the order. */
#define PENDING_CAP (64 * 1024)
#define FLUSH_MS 50

static pthread_mutex_t pending_lock = PTHREAD_MUTEX_INITIALIZER;
/* signalled when the first line lands in an empty buffer, and at stop */
static pthread_cond_t pending_wake = PTHREAD_COND_INITIALIZER;
static char pending[PENDING_CAP];
static size_t pending_len;
static bool buffering;
static pthread_t flusher;

/* A short write or EINTR must not drop the rest of the lines. */
static void write_all(const char *text, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, text, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        text += w;
        n -= (size_t)w;
    }
}

/* Called with pending_lock held. */
static void flush_locked(void)
{
    write_all(pending, pending_len);
    pending_len = 0;
}

static void write_line(const char *text, size_t n, bool may_wait)
{
    pthread_mutex_lock(&pending_lock);
    if (may_wait && buffering && n <= PENDING_CAP) {
        if (pending_len + n > PENDING_CAP) flush_locked();
        if (pending_len == 0) pthread_cond_signal(&pending_wake);
        memcpy(pending + pending_len, text, n);
        pending_len += n;
    } else {
        flush_locked();
        write_all(text, n);
    }
    pthread_mutex_unlock(&pending_lock);
}

/* Sleeps while nothing is pending; otherwise gives the first pending
 * line FLUSH_MS to gather company. */
static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&pending_lock);
    while (buffering) {
        if (pending_len == 0) {
            pthread_cond_wait(&pending_wake, &pending_lock);
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += FLUSH_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&pending_wake, &pending_lock, &until);
        flush_locked();
    }
    pthread_mutex_unlock(&pending_lock);
    return NULL;
}

bool log_buffer_start(void)
{
    pthread_mutex_lock(&pending_lock);
    buffering = true;
    pthread_mutex_unlock(&pending_lock);
    if (pthread_create(&flusher, NULL, flusher_main, NULL) == 0) return true;
    pthread_mutex_lock(&pending_lock);
    buffering = false;
    pthread_mutex_unlock(&pending_lock);
    return false;
}

void log_buffer_stop(void)
{
    pthread_mutex_lock(&pending_lock);
    bool was_buffering = buffering;
    buffering = false;
    flush_locked();
    pthread_cond_signal(&pending_wake);
    pthread_mutex_unlock(&pending_lock);
    if (was_buffering) pthread_join(flusher, NULL);
}

static void emit(json_t *line, bool may_wait)
{
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    if (!text) return;
    size_t n = strlen(text);
    text[n] = '\n'; /* json_dumps' NUL: the line is written by length */
    write_line(text, n + 1, may_wait);
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
    emit(json_pack("{s:s, s:s, s:o?}", "time", ts, "level", level, "msg", json_string(msg)), false);
}

/* The usual line (a plain path, a validated request id) is put together
 * by hand, as it is written once per request; anything else goes through
 * jansson, which escapes it. */
static bool access_line(char *line, size_t cap, size_t *len, const char *ts, const char *request_id,
                        const char *client, const char *method, const char *path, unsigned status,
                        double duration_ms)
{
    unsigned long long us = duration_ms > 0 ? (unsigned long long)(duration_ms * 1000.0) : 0;
    char *at = line, *end = line + cap;
    bool ok = put_str(&at, end, "{\"time\":\"") && put_str(&at, end, ts) &&
              put_str(&at, end, "\",\"level\":\"info\",\"request_id\":\"") &&
              put_str(&at, end, request_id) && put_str(&at, end, "\",\"client\":");
    if (client)
        ok = ok && put(&at, end, "\"", 1) && put_str(&at, end, client) && put(&at, end, "\"", 1);
    else
        ok = ok && put_str(&at, end, "null");
    ok = ok && put_str(&at, end, ",\"method\":\"") && put_str(&at, end, method) &&
         put_str(&at, end, "\",\"path\":\"") && put_str(&at, end, path) &&
         put_str(&at, end, "\",\"status\":") && put_uint(&at, end, status, 1) &&
         put_str(&at, end, ",\"duration_ms\":") && put_uint(&at, end, us / 1000, 1) &&
         put(&at, end, ".", 1) && put_uint(&at, end, us % 1000, 3) && put_str(&at, end, "}\n");
    *len = (size_t)(at - line);
    return ok;
}

void log_access(const char *request_id, const char *client, const char *method, const char *path,
                unsigned status, double duration_ms)
{
    char ts[32], line[1024];
    size_t len;
    log_timestamp(ts, sizeof ts);
    if (json_plain(path) && json_plain(request_id) && json_plain(method) &&
        (!client || json_plain(client)) &&
        access_line(line, sizeof line, &len, ts, request_id, client, method, path, status,
                    duration_ms)) {
        write_line(line, len, true);
        return;
    }
    json_t *obj = json_pack("{s:s, s:s, s:s, s:s*, s:s, s:s, s:i, s:f}", "time", ts, "level",
                            "info", "request_id", request_id, "client", client, "method", method,
                            "path", "", "status", (int)status, "duration_ms", duration_ms);
    /* a path that is not valid UTF-8 is logged by length only */
    json_t *p = json_string(path);
    if (obj && p) json_object_set_new(obj, "path", p);
    emit(obj, true);
}
