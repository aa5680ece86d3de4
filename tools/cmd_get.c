/* vellum get: write an object's files out, verifying every digest. */
#include "cli.h"

static const char usage[] =
    "usage: vellum get ID DEST [--version vN] [--file PATH] [--skip-damaged]\n"
    "                  [--repo DIR] [--json]\n"
    "\n"
    "Rebuild the logical state of the head version (or vN) in the new folder\n"
    "DEST, byte-exact, recomputing every digest while copying.  A file whose\n"
    "copy in the repository is missing, unreadable or fails its digest is read\n"
    "from the first replica whose copy verifies, with a note on stderr.  When\n"
    "no copy of a file is good, get names it, exits 1 and leaves nothing at\n"
    "DEST.  Each file gets back the modification time it was deposited with.\n"
    "\n"
    "  --file PATH     only the file PATH (a logical path, as 'vellum show'\n"
    "                  lists it, e.g. data/report.pdf); DEST is then the new\n"
    "                  file itself\n"
    "  --skip-damaged  write every file that has a good copy, list the others\n"
    "                  (left out) and exit 1\n";

struct notes {
    json_t *replicas;         /* [{path, replica, problem}] */
    json_t *damaged;          /* [{path, problem}] */
    size_t from_replicas, left_out;
    int oom;
};

static void on_file(void *arg, const vl_get_file_note *n)
{
    struct notes *nt = arg;
    json_t *j;
    if (n->source) {
        nt->from_replicas++;
        fprintf(stderr, "vellum: note: %s: primary copy damaged (%s); read from "
                "replica %s\n", cli_text(n->logical), cli_text(n->problem),
                cli_text(n->source));
        j = json_pack("{s:s, s:s, s:s}", "path", n->logical, "replica", n->source,
                      "problem", n->problem);
        if (!j || json_array_append_new(nt->replicas, j) != 0)
            nt->oom = 1;
    } else {
        nt->left_out++;
        fprintf(stderr, "vellum: note: %s: no copy is good (%s); left out\n",
                cli_text(n->logical), cli_text(n->problem));
        j = json_pack("{s:s, s:s}", "path", n->logical, "problem", n->problem);
        if (!j || json_array_append_new(nt->damaged, j) != 0)
            nt->oom = 1;
    }
}

CLI_COMMAND(get)
{
    static const struct option opts[] = {
        {"version", required_argument, NULL, 'v'},
        {"file", required_argument, NULL, 'f'},
        {"skip-damaged", no_argument, NULL, 's'},
        CLI_COMMON_OPTIONS, {0, 0, 0, 0}};
    cli_common c = {0};
    vl_error err = {0};
    vl_repo *repo = NULL;
    vl_get_options go = {0};
    struct notes nt = {json_array(), json_array(), 0, 0, 0};
    int opt, rc, num = 0;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_common_option(&c, opt, optarg))
            continue;
        switch (opt) {
        case 'v':
            if ((num = cli_parse_version(optarg)) < 0) {
                rc = cli_usage_error("get", "--version takes vN, e.g. v2");
                goto done;
            }
            break;
        case 'f':
            go.file = optarg;
            break;
        case 's':
            go.skip_damaged = 1;
            break;
        case 'h':
            fputs(usage, stdout);
            rc = CLI_EXIT_OK;
            goto done;
        default:
            rc = cli_option_error("get", argv);
            goto done;
        }
    }
    if (optind + 2 == argc && (rc = cli_check_id(argv[optind])) != CLI_EXIT_OK)
        goto done;
    if (optind + 2 != argc) {
        rc = cli_usage_error("get", "give an object id and a destination %s",
                             go.file ? "file" : "folder");
        goto done;
    }
    if (!nt.replicas || !nt.damaged) {
        fputs("vellum: out of memory\n", stderr);
        rc = CLI_EXIT_SYSTEM;
        goto done;
    }
    if ((rc = cli_open_repo_mode(&c, VL_OPEN_READ, &repo)) != CLI_EXIT_OK)
        goto done;
    go.on_file = on_file;
    go.arg = &nt;
    const char *id = argv[optind], *dest = argv[optind + 1];
    int st = vl_repo_get_opts(repo, id, num, dest, &go, &err);
    /* With --skip-damaged, DEST holds what had a good copy. */
    int written = st == VL_OK || (st == VL_FINDING && nt.left_out && !go.file);
    if (written && c.json) {
        json_t *j = json_pack("{s:s, s:s, s:b, s:O, s:O}", "id", id, "dest", dest,
                              "verified", 1, "from_replicas", nt.replicas,
                              "damaged", nt.damaged);
        if (j && go.file)
            json_object_set_new(j, "file", json_string(go.file));
        cli_print_json(j);
    } else if (written) {
        printf("%s -> %s (every digest verified", cli_text(id), cli_text(dest));
        if (nt.from_replicas)
            printf("; %zu %s read from replicas", nt.from_replicas,
                   nt.from_replicas == 1 ? "file" : "files");
        if (nt.left_out)
            printf("; %zu damaged %s left out", nt.left_out,
                   nt.left_out == 1 ? "file" : "files");
        printf(")\n");
    }
    rc = st != VL_OK ? cli_fail_object(repo, id, &err) : CLI_EXIT_OK;
    if (rc == CLI_EXIT_OK && nt.oom) {
        fputs("vellum: out of memory while listing the files read from replicas\n",
              stderr);
        rc = CLI_EXIT_SYSTEM;
    }
done:
    vl_repo_close(repo);
    json_decref(nt.replicas);
    json_decref(nt.damaged);
    return rc;
}
