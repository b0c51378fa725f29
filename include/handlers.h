#ifndef PATROND_HANDLERS_H
#define PATROND_HANDLERS_H

#include "http.h"

/* One file per resource under api/handlers/. */

/* The shapes resource handlers share (api/handlers/resource.c), each
 * around the one db function it is given. */
typedef struct db_status (*db_get_fn)(struct db *db, const char *id, json_t **out);
typedef struct db_status (*db_patch_fn)(struct db *db, const char *actor, const char *rid,
                                        const char *id, json_t *patch, json_t **out);
typedef struct db_status (*db_delete_fn)(struct db *db, const char *actor, const char *rid,
                                         const char *id);
typedef struct db_status (*db_action_fn)(struct db *db, const char *actor, const char *rid,
                                         const char *id, json_t **out);
/* GET …/{id}: 200 with the row get reads, else its error (404 for a
 * malformed id). */
void handle_get(struct req *r, db_get_fn get);
/* PATCH …/{id} once r->json is validated: 200 with the row as update left
 * it. moves_ballots: the write may re-weigh ballots, so the tally is
 * announced after it committed. */
void handle_patch(struct req *r, const char *id, db_patch_fn update, bool moves_ballots);
/* POST …/{id}/<verb> without a body: 200 with the row the action left. */
void handle_action(struct req *r, db_action_fn act, bool moves_ballots);
/* DELETE …/{id}: 204, else the error. */
void handle_delete(struct req *r, db_delete_fn del, bool moves_ballots);

void health_live(struct req *r);
void health_ready(struct req *r);
void metrics_get(struct req *r);

void tiers_create(struct req *r);
void tiers_list(struct req *r);
void tiers_get(struct req *r);
void tiers_update(struct req *r);
void tiers_delete(struct req *r);

void patrons_create(struct req *r);
void patrons_list(struct req *r);
void patrons_get(struct req *r);
void patrons_update(struct req *r);
void patrons_erase(struct req *r);
void patrons_export(struct req *r);
void patrons_import(struct req *r);

void pledges_create(struct req *r);
void pledges_list(struct req *r);
void pledges_get(struct req *r);
void pledges_update(struct req *r);

void payments_list(struct req *r);
void payments_get(struct req *r);

void audit_list(struct req *r);

void reports_summary(struct req *r);
void reports_mrr(struct req *r);

void auth_magic_link(struct req *r);
void auth_session_create(struct req *r);
void auth_session_delete(struct req *r);
void me_get(struct req *r);
void me_update(struct req *r);
void me_export(struct req *r);
void me_erase(struct req *r);
/* POST /v1/me/pledges/{id}/cancel (api/handlers/me_pledges.c). */
void me_pledge_cancel(struct req *r);
/* Member tokens and their public keys (api/handlers/member_token.c). */
void me_token(struct req *r);
void jwks_get(struct req *r);

void checkout_create(struct req *r);
void checkout_options(struct req *r);

/* The web pages and served files (api/handlers/pages.c). */
/* Renders every page in every offered language (at start, before the
 * server threads); false when out of memory. */
bool pages_render(void);
void pages_free(void);
void pages_donate(struct req *r);
void pages_thanks(struct req *r);
void pages_members(struct req *r);
void pages_admin(struct req *r);
void pages_asset(struct req *r);
void pages_catalogue(struct req *r);
void pages_openapi(struct req *r);

void webhooks_receive(struct req *r);
void webhook_events_list(struct req *r);
void webhook_events_get(struct req *r);
void webhook_events_replay(struct req *r);

/* Outbound webhooks (api/handlers/webhook_endpoints.c, webhook_deliveries.c). */
void webhook_endpoints_create(struct req *r);
void webhook_endpoints_list(struct req *r);
void webhook_endpoints_get(struct req *r);
void webhook_endpoints_update(struct req *r);
void webhook_endpoints_delete(struct req *r);
void webhook_endpoints_rotate(struct req *r);
void webhook_deliveries_list(struct req *r);
void webhook_deliveries_retry(struct req *r);

void topics_create(struct req *r);
void topics_list(struct req *r);
void topics_get(struct req *r);
void topics_update(struct req *r);
void topics_delete(struct req *r);

void rounds_create(struct req *r);
void rounds_list(struct req *r);
void rounds_get(struct req *r);
void rounds_current(struct req *r);
void rounds_update(struct req *r);
void rounds_close(struct req *r);
/* Validates a body holding "topic_ids" (a round's topics, or a ballot's
 * choices when `round` is false) with the other `fields`; false after a
 * 422 was queued. *ids is NULL when absent (api/handlers/rounds.c). */
bool validate_with_topic_ids(struct req *r, const struct field *fields, bool required, bool round,
                             json_t **ids);
void rounds_tally(struct req *r);
void rounds_current_tally(struct req *r);
/* the same from memory, on the HTTP thread (struct route's `memory`) */
void rounds_tally_cached(struct req *r);
void rounds_current_tally_cached(struct req *r);
void ballots_put(struct req *r);
void ballots_get(struct req *r);
void ballots_delete(struct req *r);

#endif
