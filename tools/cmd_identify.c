/* vellum identify: format identification of files, without a repository. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char usage[] =
    "usage: vellum identify FILE... [--json]\n"
    "\n"
    "Identify the format of each file as ingest does: libmagic's MIME type,\n"
    "encoding and description of the file's leading bytes, and the PRONOM\n"
    "identifier (PUID) where the result fixes one.  One line per file:\n"
    "  path<TAB>mime; charset=encoding<TAB>PUID or -<TAB>description\n"
    "--json prints an array of {path, mime, encoding, description, puid,\n"
    "format_name, format_version, size}.  Exit 2 when a file cannot be read\n"
    "(the others are still identified).\n";

/* Read up to cap leading bytes of path (one pass, no more); size from fstat. */
static int read_prefix(const char *path, unsigned char *buf, size_t cap,
                       size_t *len, uint64_t *size)
{
    struct stat st;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;
    if (fd < 0)
        goto done;
    if (fstat(fd, &st) != 0)
        goto done;
    if (!S_ISREG(st.st_mode)) {
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        goto done;
    }
    while (got < cap) {
        ssize_t n = read(fd, buf + got, cap - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto done;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    *len = got;
    *size = (uint64_t)st.st_size;
    rc = 0;
done:
    if (fd >= 0) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return rc;
}

CLI_COMMAND(identify)
{
    static const struct option opts[] = {CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_identifier *idf = NULL;
    unsigned char *buf = NULL;
    size_t cap = vl_identify_prefix_bytes();
    json_t *arr = NULL;
    int opt, rc = CLI_EXIT_OK;

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        if (opt == 'h') {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        }
        return cli_usage_error("identify", "unknown option");
    }
    if (optind >= argc)
        return cli_usage_error("identify", "no file given");
    if (!(buf = malloc(cap))) {
        rc = cli_fail(&(vl_error){VL_ESYS, ENOMEM, "out of memory"});
        goto done;
    }
    if (vl_identifier_open(&idf, &err) != VL_OK) {
        rc = cli_fail(&err);
        goto done;
    }
    arr = c.json ? json_array() : NULL;
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        vl_format f;
        size_t len = 0;
        uint64_t size = 0;
        if (read_prefix(path, buf, cap, &len, &size) != 0) {
            fprintf(stderr, "vellum identify: cannot read '%s': %s\n",
                    cli_text(path), strerror(errno));
            rc = CLI_EXIT_USAGE;
            continue;
        }
        if (vl_identify_buffer(idf, buf, len, size, path, &f, &err) != VL_OK) {
            rc = cli_fail(&err);
            goto done;
        }
        if (arr) {
            /* JSON strings must be UTF-8: escape an odd file name */
            char *esc = vl_utf8_valid(path, strlen(path)) ? NULL
                                                          : vl_name_escape(path);
            json_array_append_new(arr, json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "path",
                esc ? esc : path,
                "mime", f.mime, "encoding", f.encoding, "description",
                f.description, "puid", f.puid, "format_name", f.format_name,
                "format_version", f.format_version, "size", (json_int_t)size));
            free(esc);
        } else {
            /* libmagic's description may quote the file's own text */
            printf("%s\t%s; charset=%s\t%s\t%s\n", cli_text(path), cli_text(f.mime),
                   cli_text(f.encoding), f.puid[0] ? f.puid : "-",
                   cli_text(f.description));
        }
    }
    if (arr) {
        cli_print_json(arr);
        arr = NULL;
    }
done:
    json_decref(arr);
    vl_identifier_close(idf);
    free(buf);
    return rc;
}
