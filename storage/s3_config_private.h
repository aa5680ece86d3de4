/* Private to storage/: an S3 store's settings, resolved from the
 * repository's configuration and the environment (s3_config.c). */
#ifndef VL_S3_CONFIG_PRIVATE_H
#define VL_S3_CONFIG_PRIVATE_H

#ifndef VL_STORAGE_INTERNAL
#error "s3_config_private.h is private to storage/"
#endif

#include "s3_private.h"
#include "vl_common.h"

typedef struct vl_s3_settings {
    char *endpoint, *region;
    char *access_key, *secret_key, *session_token;   /* wiped on release */
    int tls_verify;
    int parallel;
    int retries;         /* 0: the client's default; -1: none */
} vl_s3_settings;

/* config may be NULL (validate --path s3://... outside a repository);
 * config_path names it in messages and is checked to be private when it
 * holds the secret.  VL_EINPUT for missing credentials or a credentials
 * file others may read. */
int vl_s3_settings_resolve(const vl_kv *config, const char *config_path,
                           vl_s3_settings *s, vl_error *err);
void vl_s3_settings_release(vl_s3_settings *s);
/* A vl_s3_config pointing into s (valid while s is). */
void vl_s3_settings_config(const vl_s3_settings *s, vl_s3_config *c);

#endif
