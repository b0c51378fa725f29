/* /v1/topics: what readers would like covered. Public to read; admins
 * write any topic, members propose new ones (SPEC §4). */
#include "db/topics.h"
#include "handlers.h"

static const char *const topic_statuses[] = {"proposed", "open", "covered", "declined", NULL};

/* A new topic's title and description, whoever creates it. */
#define TITLE_FIELD(dst)                                                                           \
    {                                                                                              \
        .name = "title", .type = FIELD_STRING, .required = true, .min = 1, .max = 200,             \
        .out.str = (dst)                                                                           \
    }
#define DESCRIPTION_FIELD(dst)                                                                     \
    {                                                                                              \
        .name = "description", .type = FIELD_STRING, .nullable = true, .max = 5000,                \
        .out.str = (dst)                                                                           \
    }

static void topics_create_admin(struct req *r)
{
    struct topic_in in = {.status = "open"};
    struct field fields[] = {
        TITLE_FIELD(&in.title),
        DESCRIPTION_FIELD(&in.description),
        {.name = "status", .type = FIELD_ENUM, .choices = topic_statuses, .out.str = &in.status},
        {.name = "covered_url", .type = FIELD_URL, .nullable = true, .out.str = &in.covered_url},
        {0},
    };
    if (!req_validate(r, fields)) return;
    json_t *topic = NULL;
    struct db_status st = db_topic_create(r->db, r->caller.id, r->request_id, &in, &topic);
    reply_result(r, &st, 201, topic);
}

/* A member names the topic; its status and fate are the newsroom's. */
static void topics_propose(struct req *r)
{
    const char *title = NULL, *description = NULL;
    struct field fields[] = {
        TITLE_FIELD(&title),
        DESCRIPTION_FIELD(&description),
        {0},
    };
    if (!req_validate(r, fields)) return;
    json_t *topic = NULL;
    struct db_status st =
        db_topic_propose(r->db, r->request_id, r->caller.id, title, description, &topic);
    reply_result(r, &st, 201, topic);
}

void topics_create(struct req *r)
{
    if (r->caller.kind == CALLER_PATRON)
        topics_propose(r);
    else
        topics_create_admin(r);
}

/* API keys, read-only ones included, see who proposed a topic. */
static bool is_admin(const struct req *r)
{
    return r->caller.kind == CALLER_ADMIN_KEY || r->caller.kind == CALLER_READ_KEY;
}

void topics_list(struct req *r)
{
    int limit;
    const char *after, *status;
    if (!req_list_params(r, &limit, &after) ||
        !req_query_enum(r, "status", topic_statuses, &status))
        return;
    json_t *rows = NULL;
    struct db_status st = db_topic_list(r->db, status, limit, after, is_admin(r), &rows);
    reply_header(r, "Vary", "Authorization"); /* keys see proposed_by */
    reply_list_result(r, &st, rows, limit);
}

void topics_get(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    json_t *topic = NULL;
    struct db_status st = db_topic_get(r->db, id, is_admin(r), &topic);
    reply_header(r, "Vary", "Authorization");
    reply_result(r, &st, 200, topic);
}

void topics_update(struct req *r)
{
    const char *id = req_uuid_param(r, 0);
    if (!id) return;
    struct field fields[] = {
        {.name = "title", .type = FIELD_STRING, .min = 1, .max = 200},
        {.name = "description", .type = FIELD_STRING, .nullable = true, .max = 5000},
        {.name = "status", .type = FIELD_ENUM, .choices = topic_statuses},
        {.name = "covered_url", .type = FIELD_URL, .nullable = true},
        {0},
    };
    if (!req_validate(r, fields)) return;
    handle_patch(r, id, db_topic_update, true);
}

void topics_delete(struct req *r)
{
    handle_delete(r, db_topic_delete, true);
}
