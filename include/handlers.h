#ifndef PATROND_HANDLERS_H
#define PATROND_HANDLERS_H

#include "http.h"

/* One file per resource under api/handlers/. */

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
void me_export(struct req *r);
void me_erase(struct req *r);

void checkout_create(struct req *r);

#endif
