/* Writes the seed corpus of fuzz_ole2 (tests/fuzz/corpus/ole2/) with the
 * unit tests' writer: a Word-like document, nested storages, only mini
 * streams, only a large stream.  Not built by default:
 *   cc -Itests/unit -o /tmp/gen tests/fuzz/gen_ole2_seeds.c && /tmp/gen DIR */
#include <stdio.h>

#include "ole2_writer.h"

static void save(const char *dir, const char *name, const ow_item *it,
                 size_t n)
{
    char path[512];
    size_t len;
    uint8_t *f = ow_build(it, n, &len);
    FILE *fp;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(fp = fopen(path, "wb")) || fwrite(f, 1, len, fp) != len ||
        fclose(fp))
        perror(path);
    free(f);
}

int main(int argc, char **argv)
{
    static uint8_t big[5000], small[300];
    static const uint8_t compobj[] =
        "\x01\x00\xfe\xff\x03\x0a\x00\x00\xff\xff\xff\xff\x06\x09\x02\x00"
        "\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46\x1c\x00\x00\x00"
        "Microsoft Word 97-2003 Document\x00\x0a\x00\x00\x00MSWordDoc\x00"
        "\x10\x00\x00\x00Word.Document.8\x00";
    const char *dir = argc > 1 ? argv[1] : ".";
    size_t i;

    for (i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    for (i = 0; i < sizeof small; i++)
        small[i] = (uint8_t)(i * 3);
    {
        ow_item it[] = {{"\x01" "CompObj", compobj, sizeof compobj, 0},
                        {"WordDocument", big, sizeof big, 0},
                        {"\x05SummaryInformation", small, 200, 0}};
        save(dir, "word97", it, 3);
    }
    {
        ow_item it[] = {{"A", NULL, 0, 1},
                        {"A/B", NULL, 0, 1},
                        {"A/B/s", small, 100, 0},
                        {"A/t", small, 64, 0},
                        {"u", "", 0, 0}};
        save(dir, "nested", it, 5);
    }
    {
        ow_item it[] = {{"one", small, 1, 0}, {"two", small, 65, 0},
                        {"three", small, 300, 0}};
        save(dir, "mini", it, 3);
    }
    {
        ow_item it[] = {{"Workbook", big, sizeof big, 0}};
        save(dir, "big", it, 1);
    }
    return 0;
}
