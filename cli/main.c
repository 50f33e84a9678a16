/*
 * cli/main.c — `soma`, the command-line tool: sub-commands in the darknet style.
 * Exit codes: 0 success, 1 a failure while running (message on stderr), 2 bad usage.
 */
#include "cli.h"

#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

/* One row per sub-command. */
static const command commands[] = {
    {"train", cmd_train, "train a network (soma train --data mnist --net 784-100-10 --neuron bilinear -T 20)"},
    {"eval", cmd_eval, "evaluate a saved model on a test set"},
    {"bench", cmd_bench, "training and inference throughput and peak memory"},
    {"xor", cmd_xor, "can a single neuron learn XOR? (lif vs bilinear vs shunting)"},
    {"plot", cmd_plot, "SVG plots: spike raster, membrane traces, firing rates, training curves"},
    {"stats", cmd_stats, "firing rates, synaptic operations and energy vs the equivalent ANN"},
    {"export", cmd_export, "the trained net as dependency-free C99 (float or int8)"},
    {"rec", cmd_rec, "movie recommender on MovieLens: train, eval, recommend (soma rec --help)"},
};

static void usage(FILE *f) {
    fprintf(f, "soma %s — spiking neural networks with linear, bilinear and shunting-inhibition neurons\n\n"
               "usage: soma <command> [options]   (soma <command> --help for its options)\n\ncommands:\n",
            SOMA_VERSION_STRING);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "  %-9s %s\n", "version", "print the version");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *c = argv[1];
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(c, commands[i].name) == 0) return commands[i].run(argc, argv);
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
