/*
 * cli/main.c — `soma`, the command-line tool: sub-commands in the darknet style.
 * Exit codes: 0 success, 1 a failure while running (message on stderr), 2 bad usage.
 */
#include "cli.h"

#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "soma %s — spiking neural networks with linear, bilinear and shunting-inhibition neurons\n\n"
               "usage: soma <command> [options]   (soma <command> --help for its options)\n\n"
               "commands:\n"
               "  train     train a network (e.g. soma train --data mnist --net 784-100-10 --neuron bilinear -T 20)\n"
               "  eval      evaluate a saved model on a test set\n"
               "  bench     training and inference throughput and peak memory\n"
               "  xor       can a single neuron learn XOR? (linear vs bilinear vs shunting)\n"
               "  version   print the version\n",
            SOMA_VERSION_STRING);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *c = argv[1];
    if (strcmp(c, "train") == 0) return cmd_train(argc, argv);
    if (strcmp(c, "eval") == 0) return cmd_eval(argc, argv);
    if (strcmp(c, "bench") == 0) return cmd_bench(argc, argv);
    if (strcmp(c, "xor") == 0) return cmd_xor(argc, argv);
    if (strcmp(c, "version") == 0 || strcmp(c, "--version") == 0) {
        printf("soma %s\n", SOMA_VERSION_STRING);
        return 0;
    }
    if (strcmp(c, "help") == 0 || strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "soma: unknown command '%s'\n\n", c);
    usage(stderr);
    return 2;
}
