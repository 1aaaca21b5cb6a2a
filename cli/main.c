/* main.c - entry point: dispatches the command line (no arguments -> TUI). */
#include "../engine/pvm.h"
#include <stdio.h>
int main(int argc, char **argv)
{
    (void)argv;
    if (argc < 2)
        printf("usage: privarion-vm profile|vm|doctor ...\n");
    return 0;
}
