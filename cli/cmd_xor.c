/* cli/cmd_xor.c — `soma xor`: train single neurons on XOR over many seeds and report. */
#include "cli.h"

#include <string.h>

int cmd_xor(int argc, char **argv) {
    const char *neuron = "bilinear";
    int seeds = 20, json = 0, T = 0, steps = 0;
    uint64_t seed0 = 1;
    cli_opt t[] = {
        {"--neuron", NULL, OPT_STR, &neuron, "lif | bilinear | shunting", 1, 0},
        {"--seeds", NULL, OPT_INT, &seeds, "random initialisations to try", 1, 100000},
        {"--first-seed", NULL, OPT_U64, &seed0, "first seed", 0, 1e15},
        {"--time-steps", "-T", OPT_INT, &T, "time steps (0 = default 8)", 0, 10000},
        {"--steps", NULL, OPT_INT, &steps, "training steps (0 = default 1500)", 0, 10000000},
        {"--json", NULL, OPT_FLAG, &json, "print the numbers as one JSON object", 1, 0},
        {0},
    };
    int pr = cli_parse("xor", "[--neuron lif|bilinear|shunting] [options]", t, argc, argv, 2);
    if (pr) return pr > 0 ? 0 : 2;
    int m = soma_integrate_mode_parse(neuron);
    if (m < 0) {
        fprintf(stderr, "soma xor: unknown --neuron '%s' (lif, bilinear, shunting)\n", neuron);
        return 2;
    }
    soma_set_threads(1);
    soma_xor_options o = soma_xor_default_options((soma_integrate_mode)m);
    if (T) o.T = T;
    if (steps) o.steps = steps;
    int learned = 0;
    if (!json) printf("single %s neuron on XOR, T = %d, %d training steps per seed\n", neuron, o.T, o.steps);
    for (int s = 0; s < seeds; s++) {
        soma_xor_result r;
        soma_error err = {0};
        if (soma_xor_train(&o, seed0 + (uint64_t)s, &r, &err)) {
            fprintf(stderr, "soma xor: %s\n", err.msg);
            return 1;
        }
        learned += r.learned;
        if (!json)
            printf("  seed %3llu: rates (0,0) %.2f (0,1) %.2f (1,0) %.2f (1,1) %.2f  %s\n",
                   (unsigned long long)(seed0 + (uint64_t)s), r.rate[0], r.rate[1], r.rate[2], r.rate[3],
                   r.learned ? "learned XOR" : "failed");
    }
    if (json) {
        json_out j;
        json_begin(&j, stdout);
        json_str(&j, "neuron", neuron);
        json_int(&j, "seeds", seeds);
        json_int(&j, "learned", learned);
        json_num(&j, "success_rate", (double)learned / seeds);
        json_end(&j);
    } else {
        printf("learned XOR in %d of %d seeds (%.0f%%)\n", learned, seeds, 100.0 * learned / seeds);
    }
    return 0;
}
