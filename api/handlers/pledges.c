/* /v1/pledges (admin). Checkout and webhooks create most pledges; admins
 * add manual ones (bank transfers) and move them through their states. */
#include "db/pledges.h"
#include "config.h"
#include "domain.h"
#include "handlers.h"
#include "tally_notify.h"

static const char *const creatable_statuses[] = {"pending", "active", NULL};

void pledges_create(struct req *r)
{
    struct pledge_in in = {0};
    struct field fields[] = {
        {.name = "patron_id", .type = FIELD_UUID, .required = true, .out.str = &in.patron_id},
        {.name = "amount_minor",
         .type = FIELD_INT,
         .required = true,
         .min = 1,
         .max = cfg.max_amount_minor,
         .out.i64 = &in.amount_minor},
        {.name = "currency", .type = FIELD_CURRENCY, .required = true, .out.str = &in.currency},
        {.name = "interval",
         .type = FIELD_ENUM,
         .required = true,
         .choices = pledge_intervals,
         .out.str = &in.interval},
        {.name = "provider",
         .type = FIELD_ENUM,
         .required = true,
         .choices = providers,
         .out.str = &in.provider},
        {.name = "provider_ref",
         .type = FIELD_STRING,
         .nullable = true,
         .min = 1,
         .max = 200,
         .out.str = &in.provider_ref},
        {.name = "status",
         .type = FIELD_ENUM,
         .choices = creatable_statuses,
         .out.str = &in.status},
        {.name = "current_period_end",
         .type = FIELD_TIMESTAMP,
         .nullable = true,
         .out.str = &in.current_period_end},
        {.name = "tier_id", .type = FIELD_UUID, .nullable = true, .out.str = &in.tier_id},
        {0},
    };
    if (!req_validate(r, fields)) return;
    json_t *pledge = NULL;
    bool moved = false;
    struct db_status st =
        db_pledge_create(r->db, r->caller.id, r->request_id, &in, &pledge, &moved);
    if (moved) tally_changed();
    if (st.rc == DB_NOT_FOUND) /* the insert selects the patron, so none was found */
        reply_invalid_field(r, "patron_id", "no such patron (or the patron was erased)");
    else
        reply_result(r, &st, 201, pledge);
}

void pledges_list(struct req *r)
{
    int limit;
    const char *after, *patron_id, *status, *provider;
    if (!req_list_params(r, &limit, &after) || !req_query_uuid(r, "patron_id", &patron_id) ||
        !req_query_enum(r, "status", pledge_statuses, &status) ||
        !req_query_enum(r, "provider", providers, &provider))
        return;
    json_t *rows = NULL;
    struct db_status st = db_pledge_list(r->db, patron_id, status, provider, limit, after, &rows);
    reply_list_result(r, &st, rows, limit);
}

void pledges_get(struct req *r)
{
    handle_get(r, db_pledge_get);
}

void pledges_update(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    struct field fields[] = {
        {.name = "status", .type = FIELD_ENUM, .choices = pledge_statuses},
        {.name = "amount_minor", .type = FIELD_INT, .min = 1, .max = cfg.max_amount_minor},
        {.name = "current_period_end", .type = FIELD_TIMESTAMP, .nullable = true},
        {.name = "tier_id", .type = FIELD_UUID, .nullable = true},
        {.name = "provider_ref", .type = FIELD_STRING, .nullable = true, .min = 1, .max = 200},
        {0},
    };
    if (!req_validate(r, fields)) return;
    json_t *pledge = NULL;
    bool moved = false;
    struct db_status st =
        db_pledge_update(r->db, r->caller.id, r->request_id, id, r->json, &pledge, &moved);
    if (moved) tally_changed();
    reply_result(r, &st, 200, pledge);
}
