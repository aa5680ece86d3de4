/* "Did you mean": how far apart two short strings are, for suggesting the
 * command or object id a user probably meant. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vl_common.h"

/* Optimal string alignment distance (Damerau-Levenshtein without
 * repeated edits of one substring): insertions, deletions, substitutions
 * and swaps of two neighbouring bytes each count 1.  Rows of the table
 * only, three at a time. */
size_t vl_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), d = SIZE_MAX;
    size_t *prev2 = calloc(lb + 1, sizeof *prev2);
    size_t *prev = calloc(lb + 1, sizeof *prev);
    size_t *cur = calloc(lb + 1, sizeof *cur);
    if (!prev2 || !prev || !cur)
        goto done;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = prev[j] + 1;
            if (cur[j - 1] + 1 < v)
                v = cur[j - 1] + 1;
            if (prev[j - 1] + cost < v)
                v = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < v)
                v = prev2[j - 2] + 1;
            cur[j] = v;
        }
        size_t *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    d = prev[lb];
done:
    free(prev2);
    free(prev);
    free(cur);
    return d;
}

int vl_similarity(const char *given, const char *candidate)
{
    size_t lg = strlen(given), lc = strlen(candidate);
    if (!lg || !strcmp(given, candidate))
        return -1;
    /* the beginning of the candidate, typed short */
    if (lg >= 3 && lg < lc && !strncmp(given, candidate, lg))
        return 1;
    /* a typo or two; one for short words, where two is a different word */
    size_t most = lg >= 5 ? 2 : 1;
    if ((lg > lc ? lg - lc : lc - lg) > most)
        return -1;
    size_t d = vl_edit_distance(given, candidate);
    return d <= most ? (int)d : -1;
}
