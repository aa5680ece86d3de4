/* Replays inputs through a libFuzzer target without libFuzzer: each
 * argument is a file whose bytes go to LLVMFuzzerTestOneInput once, in a
 * buffer of exactly their size (so ASan sees a read past the end).  The
 * check's regression replay links the targets with this and the
 * sanitizer build's library, which spares it a clang build of the whole
 * library; `make fuzz` still fuzzes with libFuzzer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay(const char *path)
{
    FILE *f = fopen(path, "rb");
    long n;
    uint8_t *buf;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    buf = malloc(n ? (size_t)n : 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int bad = 0;
    for (int i = 1; i < argc; i++)
        bad += replay(argv[i]) != 0;
    printf("replayed %d inputs, %d unreadable\n", argc - 1 - bad, bad);
    return bad != 0;
}
