#ifndef PATROND_PROVIDER_ID_H
#define PATROND_PROVIDER_ID_H

/* Each provider's place in the one list (include/providers.def). */
enum provider_id {
#define PROVIDER(name) PROVIDER_##name,
#include "providers.def"
#undef PROVIDER
    PROVIDERS_COUNT
};

/* The most environment variables one provider reads. */
#define PROVIDER_SETTINGS_MAX 4

#endif
