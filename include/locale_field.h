#ifndef PATROND_LOCALE_FIELD_H
#define PATROND_LOCALE_FIELD_H

/* The `locale` of a request that sets a patron's language (checkout,
 * magic link, PATCH /v1/me, the admin's patron PATCH): one of the
 * languages PATROND_LANGUAGES offers, else 422. */

#define LOCALE_CHOICES_MAX 16

/* The offered language codes as FIELD_ENUM choices, NULL-terminated. */
void locale_choices(const char *out[LOCALE_CHOICES_MAX + 1]);

#endif
