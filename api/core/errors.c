/* The error registry: include/errors.def expanded into a table. */
#include "errors.h"

static const struct err_info registry[ERR_COUNT] = {
#define ERR(name, status, type, title) [ERR_##name] = {#name, status, type, title},
#include "errors.def"
#undef ERR
};

const struct err_info *err_info(enum err_code code)
{
    if ((unsigned)code >= ERR_COUNT) code = ERR_internal_error;
    return &registry[code];
}
