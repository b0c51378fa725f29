/* POST /v1/checkout (SPEC §4): the donation form's one call. It finds or
 * creates the patron, adds a pending pledge and answers with where the
 * payer's browser goes next; the provider's webhook later activates the
 * pledge. Public, so rate-limited per client address. */
#include <string.h>
#include <time.h>

#include "config.h"
#include "db/checkout.h"
#include "domain.h"
#include "encode.h"
#include "handlers.h"
#include "locale_field.h"
#include "provider.h"

#define NAME_MAX_CHARS 200

/* With no provider configured the enum's message would list nothing. */
static void explain_no_provider(json_t *errors)
{
    size_t i;
    json_t *e;
    json_array_foreach(errors, i, e)
    {
        const char *field = json_string_value(json_object_get(e, "field"));
        if (field && !strcmp(field, "provider"))
            json_object_set_new(e, "message",
                                json_string("no checkout provider is configured on this server"));
    }
}

/* An open redirect through a genuine payment page is what this refuses. */
static json_t *add_foreign_return_url(json_t *errors)
{
    if (!errors) errors = json_array();
    json_t *e = json_pack("{s:s, s:s}", "field", "return_url", "message",
                          "must be on the origin of this site or of an allowed origin "
                          "(PATROND_PUBLIC_URL, PATROND_CORS_ORIGINS)");
    if (!e || !errors) {
        json_decref(e);
        json_decref(errors);
        return NULL;
    }
    /* On failure the array has already released e. */
    if (json_array_append_new(errors, e) == 0) return errors;
    json_decref(errors);
    return NULL;
}

/* Like req_validate, with `provider` limited to the configured providers,
 * so every problem is reported at once. */
static bool validate(struct req *r, struct checkout_in *in, const char **return_url)
{
    const char *configured[PROVIDERS_COUNT + 1];
    size_t n = checkout_providers(&cfg, configured);
    const char *offered[LOCALE_CHOICES_MAX + 1];
    locale_choices(offered);
    struct field fields[] = {
        {.name = "email", .type = FIELD_EMAIL, .required = true, .out.str = &in->email},
        {.name = "name",
         .type = FIELD_STRING,
         .nullable = true,
         .max = NAME_MAX_CHARS,
         .out.str = &in->name},
        {.name = "amount_minor",
         .type = FIELD_INT,
         .required = true,
         .min = 1,
         .max = cfg.max_amount_minor,
         .out.i64 = &in->amount_minor},
        {.name = "currency", .type = FIELD_CURRENCY, .required = true, .out.str = &in->currency},
        {.name = "interval",
         .type = FIELD_ENUM,
         .required = true,
         .choices = pledge_intervals,
         .out.str = &in->interval},
        {.name = "provider",
         .type = FIELD_ENUM,
         .required = true,
         .choices = configured,
         .out.str = &in->provider},
        {.name = "return_url", .type = FIELD_URL, .nullable = true, .out.str = return_url},
        {.name = "locale", .type = FIELD_ENUM, .choices = offered, .out.str = &in->locale},
        {0},
    };
    json_t *errors = NULL;
    bool valid = validate_object(r->json, fields, true, &errors);
    bool foreign = *return_url && !checkout_return_url_allowed(&cfg, *return_url);
    if (valid && !foreign) return true;
    if (n == 0) explain_no_provider(errors);
    if (foreign) errors = add_foreign_return_url(errors);
    reply_invalid(r, errors);
    return false;
}

/* The redirect is signed before anything is written, so a failure here
 * leaves no pledge behind. */
static json_t *build_redirect(const struct checkout_in *in, const char *return_url)
{
    struct checkout_order order = {
        .pledge_id = in->pledge_id,
        .email = in->email,
        .currency = in->currency,
        .interval = in->interval,
        .return_url = return_url,
        .amount_minor = in->amount_minor,
        .now = time(NULL),
    };
    return checkout_redirect(&cfg, in->provider, &order);
}

void checkout_create(struct req *r)
{
    if (!req_rate_limit(r, "checkout", cfg.checkout_rate_limit, 60)) return;
    struct checkout_in in = {0};
    const char *return_url = NULL;
    if (!validate(r, &in, &return_url)) return;
    char pledge_id[37];
    if (!random_uuid(pledge_id)) {
        reply_error(r, ERR_internal_error, "Could not create an order id.");
        return;
    }
    in.pledge_id = pledge_id;
    in.provider_ref = checkout_echoes_order_id(in.provider) ? pledge_id : NULL;
    json_t *redirect = build_redirect(&in, return_url);
    if (!redirect) {
        reply_error(r, ERR_internal_error, "Could not build the payment redirect.");
        return;
    }
    json_t *out = NULL;
    struct db_status st = db_checkout_create(r->db, r->request_id, &in, &out);
    if (st.rc != DB_OK) {
        json_decref(redirect);
        json_decref(out);
        reply_db(r, &st);
        return;
    }
    if (json_object_set_new(out, "redirect", redirect) != 0) {
        json_decref(out);
        reply_error(r, ERR_internal_error, "Out of memory.");
        return;
    }
    /* The signed form is for this payer only; no cache may keep it. */
    reply_header(r, "Cache-Control", "no-store");
    reply_json(r, 201, out);
}
