/* The offered languages as a validation enum (include/locale_field.h). */
#include <stddef.h>

#include "i18n.h"
#include "locale_field.h"

void locale_choices(const char *out[LOCALE_CHOICES_MAX + 1])
{
    size_t n = i18n_count();
    if (n > LOCALE_CHOICES_MAX) n = LOCALE_CHOICES_MAX;
    for (size_t i = 0; i < n; i++)
        out[i] = i18n_code(i);
    out[n] = NULL;
}
