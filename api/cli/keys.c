/* `patrond key create|list|revoke`: the only way to mint admin keys. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db/api_keys.h"
#include "encode.h"
#include "validate.h"

static int key_create(struct db *db, const char *scope, const char *name)
{
    if (!scope || (strcmp(scope, "admin") != 0 && strcmp(scope, "read") != 0)) {
        fprintf(stderr, "key create: --scope must be admin or read\n");
        return 2;
    }
    size_t chars;
    if (!name || !valid_text(name, strlen(name), &chars) || chars < 1 || chars > 200) {
        fprintf(stderr, "key create: --name is required (1 to 200 characters)\n");
        return 2;
    }
    char token[44], hex[65], id[37];
    uint8_t digest[32];
    if (!random_token(token) || !sha256(token, strlen(token), digest)) {
        fprintf(stderr, "key create: no randomness available\n");
        return 1;
    }
    hex_encode(digest, sizeof digest, hex);
    struct db_status st = db_api_key_create(db, name, scope, hex, id);
    if (st.rc != DB_OK) {
        fprintf(stderr, "key create: %s\n", st.err.message);
        return 1;
    }
    printf("created %s key %s (%s); it is shown only once:\n%s\n", scope, id, name, token);
    return 0;
}

static int key_list(struct db *db)
{
    json_t *rows;
    struct db_status st = db_api_key_list(db, &rows);
    if (st.rc != DB_OK) {
        fprintf(stderr, "key list: %s\n", st.err.message);
        return 1;
    }
    size_t i;
    json_t *k;
    printf("%-36s  %-5s  %-20s  %-20s  %s\n", "ID", "SCOPE", "CREATED", "REVOKED", "NAME");
    json_array_foreach(rows, i, k)
    {
        const char *revoked = json_string_value(json_object_get(k, "revoked_at"));
        printf("%-36s  %-5s  %-20s  %-20s  %s\n", json_string_value(json_object_get(k, "id")),
               json_string_value(json_object_get(k, "scope")),
               json_string_value(json_object_get(k, "created_at")), revoked ? revoked : "-",
               json_string_value(json_object_get(k, "name")));
    }
    json_decref(rows);
    return 0;
}

static int key_revoke(struct db *db, const char *id)
{
    if (!id || !valid_uuid(id)) {
        fprintf(stderr, "key revoke: give the key's id (see `patrond key list`)\n");
        return 2;
    }
    struct db_status st = db_api_key_revoke(db, id);
    if (st.rc == DB_NOT_FOUND) {
        fprintf(stderr, "key revoke: no key %s\n", id);
        return 1;
    }
    if (st.rc != DB_OK) {
        fprintf(stderr, "key revoke: %s\n", st.err.message);
        return 1;
    }
    printf("revoked %s\n", id);
    return 0;
}

static const char *flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], name)) return argv[i + 1];
    return NULL;
}

int cli_key(struct db *db, int argc, char **argv)
{
    const char *sub = argc > 0 ? argv[0] : "";
    if (!strcmp(sub, "create"))
        return key_create(db, flag(argc, argv, "--scope"), flag(argc, argv, "--name"));
    if (!strcmp(sub, "list")) return key_list(db);
    if (!strcmp(sub, "revoke")) return key_revoke(db, argc > 1 ? argv[1] : NULL);
    fprintf(
        stderr,
        "usage: patrond key create --scope admin|read --name NAME | key list | key revoke ID\n");
    return 2;
}
