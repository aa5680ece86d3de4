/* Where an S3 store's endpoint, region and credentials come from: the
 * repository's s3.* settings, then the usual AWS environment.  Secrets are
 * read from the environment, from a credentials file only its owner can
 * read, or from vellum.conf when only its owner can read that; they are
 * never put in a message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s3_config_private.h"

static const char *env_nonempty(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* A secret's file must be a regular file of ours that nobody else can
 * read or write: ssh's rule for private keys. */
static int check_private_file(const char *path, const char *what, vl_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return vl_error_sys(err, "cannot read the %s %s", what, path);
    if (!S_ISREG(st.st_mode))
        return vl_error_set(err, VL_EINPUT, "the %s %s is not a regular file",
                            what, path);
    if (st.st_uid != geteuid() || (st.st_mode & 077))
        return vl_error_set(err, VL_EINPUT, "the %s %s holds secrets but others "
                            "may read it (mode %03o): run 'chmod 600 %s'", what,
                            path, (unsigned)(st.st_mode & 0777), path);
    return VL_OK;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                 s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* The AWS shared-credentials format: "[profile]" sections of "key = value";
 * the [default] section (or keys before any section) is used. */
static int read_credentials_file(const char *path, vl_s3_settings *s,
                                 vl_error *err)
{
    int rc = check_private_file(path, "credentials file", err);
    FILE *f = NULL;
    char line[1024];
    int in_default = 1;
    if (rc != VL_OK)
        return rc;
    if (!(f = fopen(path, "re")))
        return vl_error_sys(err, "cannot read the credentials file %s", path);
    while (fgets(line, sizeof line, f)) {
        char *l = trim(line);
        if (*l == '#' || *l == ';' || !*l)
            continue;
        if (*l == '[') {
            in_default = !strcmp(l, "[default]");
            continue;
        }
        char *eq = strchr(l, '=');
        if (!eq || !in_default)
            continue;
        *eq = '\0';
        char *k = trim(l), *v = trim(eq + 1), **slot = NULL;
        if (!strcmp(k, "aws_access_key_id"))
            slot = &s->access_key;
        else if (!strcmp(k, "aws_secret_access_key"))
            slot = &s->secret_key;
        else if (!strcmp(k, "aws_session_token"))
            slot = &s->session_token;
        if (!slot)
            continue;
        free(*slot);
        if (!(*slot = vl_strdup(v))) {
            rc = vl_error_oom(err);
            break;
        }
    }
    explicit_bzero(line, sizeof line);
    fclose(f);
    if (rc == VL_OK && (!s->access_key || !s->secret_key))
        rc = vl_error_set(err, VL_EINPUT, "the credentials file %s has no "
                          "aws_access_key_id and aws_secret_access_key", path);
    return rc;
}

static int set_copy(char **slot, const char *v, vl_error *err)
{
    free(*slot);
    *slot = v ? vl_strdup(v) : NULL;
    return v && !*slot ? vl_error_oom(err) : VL_OK;
}

int vl_s3_settings_resolve(const vl_kv *config, const char *config_path,
                           vl_s3_settings *s, vl_error *err)
{
    int rc = VL_OK;
    const char *v;
    memset(s, 0, sizeof *s);
    s->tls_verify = 1;
    const char *endpoint = config ? vl_kv_get(config, "s3.endpoint") : NULL;
    if (!endpoint)
        endpoint = env_nonempty("AWS_ENDPOINT_URL_S3");
    if (!endpoint)
        endpoint = env_nonempty("AWS_ENDPOINT_URL");
    const char *region = config ? vl_kv_get(config, "s3.region") : NULL;
    if (!region)
        region = env_nonempty("AWS_REGION");
    if (!region)
        region = env_nonempty("AWS_DEFAULT_REGION");
    if (!region)
        region = "us-east-1";
    if ((rc = set_copy(&s->region, region, err)) != VL_OK)
        goto done;
    if (endpoint) {
        rc = set_copy(&s->endpoint, endpoint, err);
    } else if (!(s->endpoint = vl_asprintf("https://s3.%s.amazonaws.com", region))) {
        rc = vl_error_oom(err);
    }
    if (rc != VL_OK)
        goto done;
    size_t n = strlen(s->endpoint);
    while (n && s->endpoint[n - 1] == '/')
        s->endpoint[--n] = '\0';
    if (strncmp(s->endpoint, "http://", 7) && strncmp(s->endpoint, "https://", 8)) {
        rc = vl_error_set(err, VL_EINPUT, "S3 endpoint \"%s\" must start with "
                          "http:// or https://", s->endpoint);
        goto done;
    }
    if (config && (v = vl_kv_get(config, "s3.tls_verify"))) {
        if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
            s->tls_verify = 0;
        else if (strcmp(v, "true") && strcmp(v, "yes") && strcmp(v, "1")) {
            rc = vl_error_set(err, VL_EINPUT, "%s: s3.tls_verify \"%s\" must be "
                              "true or false", config_path ? config_path : "config", v);
            goto done;
        }
    }
    if (config && (v = vl_kv_get(config, "s3.parallel"))) {
        char *end;
        long p = strtol(v, &end, 10);
        if (*end || p < 1 || p > 64) {
            rc = vl_error_set(err, VL_EINPUT, "%s: s3.parallel \"%s\" must be a "
                              "number from 1 to 64",
                              config_path ? config_path : "config", v);
            goto done;
        }
        s->parallel = (int)p;
    }
    if (config && (v = vl_kv_get(config, "s3.retries"))) {
        char *end;
        long tries = strtol(v, &end, 10);
        if (*end || tries < 0 || tries > 20) {
            rc = vl_error_set(err, VL_EINPUT, "%s: s3.retries \"%s\" must be a "
                              "number from 0 to 20",
                              config_path ? config_path : "config", v);
            goto done;
        }
        /* 0 in the client's config means its default: -1 asks for none */
        s->retries = tries ? (int)tries : -1;
    }
    /* Credentials: the environment, a credentials file, vellum.conf. */
    if (env_nonempty("AWS_ACCESS_KEY_ID") && env_nonempty("AWS_SECRET_ACCESS_KEY")) {
        if ((rc = set_copy(&s->access_key, getenv("AWS_ACCESS_KEY_ID"), err)) ||
            (rc = set_copy(&s->secret_key, getenv("AWS_SECRET_ACCESS_KEY"), err)) ||
            (rc = set_copy(&s->session_token, env_nonempty("AWS_SESSION_TOKEN"), err)))
            goto done;
        goto done;
    }
    const char *file = config ? vl_kv_get(config, "s3.credentials") : NULL;
    if (!file)
        file = env_nonempty("AWS_SHARED_CREDENTIALS_FILE");
    if (file) {
        rc = read_credentials_file(file, s, err);
        goto done;
    }
    const char *ck = config ? vl_kv_get(config, "s3.access_key_id") : NULL;
    const char *cs = config ? vl_kv_get(config, "s3.secret_access_key") : NULL;
    if (ck && cs) {
        if (config_path &&
            (rc = check_private_file(config_path, "configuration", err)) != VL_OK)
            goto done;
        if ((rc = set_copy(&s->access_key, ck, err)) ||
            (rc = set_copy(&s->secret_key, cs, err)))
            goto done;
        goto done;
    }
    rc = vl_error_set(err, VL_EINPUT, "no S3 credentials: set AWS_ACCESS_KEY_ID and "
                      "AWS_SECRET_ACCESS_KEY, or name a credentials file with "
                      "s3.credentials in vellum.conf");
done:
    if (rc != VL_OK)
        vl_s3_settings_release(s);
    return rc;
}

static void free_secret(char *p)
{
    if (p)
        explicit_bzero(p, strlen(p));
    free(p);
}

void vl_s3_settings_release(vl_s3_settings *s)
{
    free(s->endpoint);
    free(s->region);
    free_secret(s->access_key);
    free_secret(s->secret_key);
    free_secret(s->session_token);
    memset(s, 0, sizeof *s);
}

void vl_s3_settings_config(const vl_s3_settings *s, vl_s3_config *c)
{
    memset(c, 0, sizeof *c);
    c->endpoint = s->endpoint;
    c->region = s->region;
    c->access_key = s->access_key;
    c->secret_key = s->secret_key;
    c->session_token = s->session_token;
    c->tls_verify = s->tls_verify;
    c->parallel = s->parallel;
    c->max_retries = s->retries;
}
