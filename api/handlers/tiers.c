/* /v1/tiers: membership levels; public to read, admin to write. */
#include "db/tiers.h"
#include "config.h"
#include "handlers.h"
#include "tally_notify.h"

void tiers_create(struct req *r)
{
    struct tier_in in = {.vote_weight = 1};
    struct field fields[] = {
        {.name = "name",
         .type = FIELD_STRING,
         .required = true,
         .min = 1,
         .max = 200,
         .out.str = &in.name},
        {.name = "amount_minor",
         .type = FIELD_INT,
         .required = true,
         .min = 1,
         .max = cfg.max_amount_minor,
         .out.i64 = &in.amount_minor},
        {.name = "currency", .type = FIELD_CURRENCY, .required = true, .out.str = &in.currency},
        {.name = "description",
         .type = FIELD_STRING,
         .nullable = true,
         .max = 2000,
         .out.str = &in.description},
        {.name = "vote_weight",
         .type = FIELD_INT,
         .min = 1,
         .max = 1000,
         .out.i64 = &in.vote_weight},
        {0},
    };
    if (!req_validate(r, fields)) return;
    json_t *tier = NULL;
    struct db_status st = db_tier_create(r->db, r->caller.id, r->request_id, &in, &tier);
    if (st.rc == DB_OK) tally_changed(); /* the write re-weighed ballots */
    reply_result(r, &st, 201, tier);
}

void tiers_list(struct req *r)
{
    int limit;
    const char *after, *currency = req_query(r, "currency");
    if (!req_list_params(r, &limit, &after)) return;
    json_t *rows = NULL;
    struct db_status st = db_tier_list(r->db, currency, limit, after, &rows);
    reply_list_result(r, &st, rows, limit);
}

void tiers_get(struct req *r)
{
    handle_get(r, db_tier_get);
}

void tiers_update(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    struct field fields[] = {
        {.name = "name", .type = FIELD_STRING, .min = 1, .max = 200},
        {.name = "amount_minor", .type = FIELD_INT, .min = 1, .max = cfg.max_amount_minor},
        {.name = "currency", .type = FIELD_CURRENCY},
        {.name = "description", .type = FIELD_STRING, .nullable = true, .max = 2000},
        {.name = "vote_weight", .type = FIELD_INT, .min = 1, .max = 1000},
        {0},
    };
    if (!req_validate(r, fields)) return;
    handle_patch(r, id, db_tier_update, true);
}

void tiers_delete(struct req *r)
{
    handle_delete(r, db_tier_delete, true);
}
