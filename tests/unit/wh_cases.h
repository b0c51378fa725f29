#ifndef PATROND_TEST_WH_CASES_H
#define PATROND_TEST_WH_CASES_H

/* Table-driven parser tests: one row a payload, with what the parsed
 * event must hold. Every expectation is one check, as the blocks of
 * CHECK_EQ_STR lines they replace were. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "provider.h"
#include "wh_fake.h"

#define WH_EXPECT_MAX 14

struct wh_expect {
    const char *field, *value;
};

#define WH_FAILS (-1)    /* the parser refuses the payload */
#define WH_ANY_KIND (-2) /* it parses; the kind is not checked */

struct wh_case {
    /* a test's own wrapper (which sets headers), or NULL: the provider's
     * parser on J(payload) */
    bool (*parse)(const char *payload, struct wh_event *ev);
    const struct provider *provider;
    const char *payload;
    int kind;                             /* the event's wh_kind, or WH_FAILS, or WH_ANY_KIND */
    struct wh_expect want[WH_EXPECT_MAX]; /* {NULL} ends it */
};

/* A field of the event as text: its string, or a number in decimal;
 * "amount" is the amount only when has_amount, else "none". */
static inline const char *wh_event_field(const struct wh_event *ev, const char *field, char *buf,
                                         size_t len)
{
    static const struct {
        const char *name;
        size_t offset;
    } text[] = {
        {"event_key", offsetof(struct wh_event, event_key)},
        {"type", offsetof(struct wh_event, type)},
        {"email", offsetof(struct wh_event, email)},
        {"name", offsetof(struct wh_event, name)},
        {"subscription_ref", offsetof(struct wh_event, subscription_ref)},
        {"customer_ref", offsetof(struct wh_event, customer_ref)},
        {"pledge_id", offsetof(struct wh_event, pledge_id)},
        {"payment_id", offsetof(struct wh_event, payment_id)},
        {"charge_ref", offsetof(struct wh_event, charge_ref)},
        {"reply_ref", offsetof(struct wh_event, reply_ref)},
        {"currency", offsetof(struct wh_event, currency)},
        {"interval", offsetof(struct wh_event, interval)},
        {"period_end", offsetof(struct wh_event, period_end)},
        {"occurred_at", offsetof(struct wh_event, occurred_at)},
        {"reason", offsetof(struct wh_event, reason)},
    };
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++)
        if (!strcmp(text[i].name, field)) return (const char *)ev + text[i].offset;
    if (!strcmp(field, "amount") && !ev->has_amount) return "none";
    if (!strcmp(field, "amount") || !strcmp(field, "amount_minor"))
        snprintf(buf, len, "%" PRId64, ev->amount_minor);
    else if (!strcmp(field, "sequence"))
        snprintf(buf, len, "%" PRId64, ev->sequence);
    else
        snprintf(buf, len, "<no field %s>", field);
    return buf;
}

static inline void wh_run_cases(const struct wh_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct wh_case *c = &cases[i];
        struct wh_event ev;
        int failed_before = check_failed;
        bool ok = c->parse ? c->parse(c->payload, &ev) : parse(c->provider, J(c->payload), &ev);
        CHECK(ok == (c->kind != WH_FAILS));
        if (ok && c->kind != WH_FAILS) {
            if (c->kind != WH_ANY_KIND) CHECK_EQ_INT(ev.kind, c->kind);
            for (const struct wh_expect *w = c->want; w->field; w++) {
                char buf[32];
                CHECK_EQ_STR(wh_event_field(&ev, w->field, buf, sizeof buf), w->value);
            }
        }
        if (check_failed > failed_before) printf("    in case %zu: %s\n", i, c->payload);
    }
}

#define WH_RUN(cases) wh_run_cases(cases, sizeof cases / sizeof cases[0])

#endif
