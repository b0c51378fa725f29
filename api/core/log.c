/* JSON-lines logging. Lines are written whole, by one writer at a time,
 * so concurrent threads never interleave within a line. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
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

/* While buffering, every line waits in one of two buffers and only the
 * flusher writes: a request thread copies its line in under the lock and
 * the flusher swaps the buffers under it, then writes the full one with
 * the lock released. So a stalled reader of stderr (journald rate-limiting
 * or restarting) stalls the flusher alone, never a request. While it is
 * stalled, access lines that find no room are dropped and counted rather
 * than waited for; RESERVE bytes are kept for the other lines, which are
 * rare and matter more. Access lines wait up to FLUSH_MS for company; any
 * other line, or a buffer half full, has them written at once. */
#define BUF_CAP (64 * 1024)
#define RESERVE (8 * 1024)
#define FLUSH_MS 50

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* signalled by the first line in an empty buffer, by `urgent`, and at stop */
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static char bufs[2][BUF_CAP];
static char *filling = bufs[0];
static size_t filled;
static bool urgent, buffering;
static pthread_t flusher;
static atomic_ulong dropped;

/* A short write or EINTR must not lose the rest; returns what could not
 * be written. */
static size_t write_all(const char *text, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, text, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        text += w;
        n -= (size_t)w;
    }
    return n;
}

/* Lines that cannot be written (stderr closed, say) count as dropped. */
static void write_lines(const char *text, size_t n)
{
    size_t left = write_all(text, n), lines = 0;
    for (const char *p = text + n - left; p < text + n; p++)
        lines += *p == '\n';
    if (lines) atomic_fetch_add(&dropped, lines);
}

/* Called with the lock held; false when the line finds no room. */
static bool append(const char *text, size_t n, bool access)
{
    if (n > (access ? BUF_CAP - RESERVE : BUF_CAP) - filled) return false;
    bool was_empty = filled == 0, was_urgent = urgent;
    memcpy(filling + filled, text, n);
    filled += n;
    urgent = urgent || !access || filled >= BUF_CAP / 2;
    /* fails only for an invalid cond, and there is no one to tell */
    if (was_empty || (urgent && !was_urgent)) (void)pthread_cond_signal(&wake);
    return true;
}

static void write_line(const char *text, size_t n, bool access)
{
    pthread_mutex_lock(&lock);
    bool direct = !buffering, kept = direct || append(text, n, access);
    pthread_mutex_unlock(&lock);
    if (direct)
        write_lines(text, n);
    else if (!kept)
        atomic_fetch_add(&dropped, 1);
}

unsigned long log_dropped(void)
{
    return atomic_load(&dropped);
}

/* Called with the lock held: waits for lines, giving a first access line
 * FLUSH_MS to gather company; false once stopped with nothing left. */
static bool lines_ready(void)
{
    while (buffering && filled == 0)
        if (pthread_cond_wait(&wake, &lock) != 0) return filled > 0;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += FLUSH_MS * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    while (buffering && !urgent)
        if (pthread_cond_timedwait(&wake, &lock, &until) != 0) break;
    return filled > 0;
}

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    while (lines_ready()) {
        char *out = filling;
        size_t n = filled;
        filling = out == bufs[0] ? bufs[1] : bufs[0];
        filled = 0;
        urgent = false;
        pthread_mutex_unlock(&lock);
        write_lines(out, n);
        pthread_mutex_lock(&lock);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

bool log_buffer_start(void)
{
    pthread_mutex_lock(&lock);
    buffering = true;
    pthread_mutex_unlock(&lock);
    if (pthread_create(&flusher, NULL, flusher_main, NULL) == 0) return true;
    pthread_mutex_lock(&lock);
    buffering = false;
    pthread_mutex_unlock(&lock);
    return false;
}

/* The flusher writes what is left before it ends; lines after that are
 * written at once. */
void log_buffer_stop(void)
{
    pthread_mutex_lock(&lock);
    bool was_buffering = buffering;
    buffering = false;
    bool woken = pthread_cond_signal(&wake) == 0;
    pthread_mutex_unlock(&lock);
    if (was_buffering && (!woken || pthread_join(flusher, NULL) != 0))
        log_error("log: the flusher did not stop; buffered lines may be lost");
}

static void emit(json_t *line, bool access)
{
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    if (!text) return;
    size_t n = strlen(text);
    text[n] = '\n'; /* json_dumps' NUL: the line is written by length */
    write_line(text, n + 1, access);
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
