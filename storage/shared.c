/* Who may read a repository: the "shared" setting (as git's
 * core.sharedRepository).  A repository is private by default, because
 * deposits hold restricted material and personal data.  The setting becomes
 * a process umask while the repository is open, OR-ed with the caller's so
 * that it never widens it; SQLite, staging and every other writer then get
 * the right modes without each naming one.  Committed files are made
 * read-only separately (vl_fs_*_readonly). */
#include <string.h>
#include <sys/stat.h>

#include "repo_internal.h"
#include "vl_storage.h"

static const struct {
    const char *name;
    mode_t mask;     /* umask bits the setting adds */
    mode_t dir_extra; /* setgid on folders, so the group sticks */
} settings[] = {
    [VL_SHARED_PRIVATE] = {"private", 027, 0},
    [VL_SHARED_GROUP] = {"group", 007, S_ISGID},
    [VL_SHARED_WORLD] = {"world", 022, 0},
};

int vl_shared_parse(const char *name, vl_shared *out)
{
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (name && !strcmp(name, settings[i].name)) {
            *out = (vl_shared)i;
            return 0;
        }
    return -1;
}

const char *vl_shared_name(vl_shared s) { return settings[s].name; }

/* The umask is only readable by setting it: set it back at once (called
 * while the process is single-threaded: at open, init and close). */
static mode_t current_umask(void)
{
    mode_t m = umask(0);
    umask(m);
    return m;
}

mode_t vl_shared_enter(vl_shared s)
{
    mode_t caller = umask(0);
    umask(caller | settings[s].mask);
    return caller;
}

void vl_shared_leave(mode_t saved) { umask(saved); }

void vl_shared_mode_bits(vl_shared s, int under_caller_umask, vl_shared_modes *out)
{
    mode_t m = settings[s].mask | (under_caller_umask ? current_umask() : 0);
    out->folders = (0777 & ~m) | settings[s].dir_extra;
    out->files = 0666 & ~m;
    out->committed = 0444 & ~m;
}
