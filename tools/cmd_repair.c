/* vellum repair: placeholder until storage/repair.c lands. */
#include "cli.h"
CLI_COMMAND(repair)
{
    (void)argc;
    (void)argv;
    return CLI_EXIT_USAGE;
}
