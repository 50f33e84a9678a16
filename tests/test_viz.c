/*
 * tests/test_viz.c — the SVG plots and the metrics log reader.
 *
 *   - every plot is well-formed XML (a small checker here) with a title, axis labels, a
 *     legend, and the marks it should have: a raster's data-count and panels, a spike circle
 *     per spike and one threshold line, bins × layers histogram bars, one curve per series;
 *   - text is escaped; bad arguments and unwritable paths are errors;
 *   - the metrics reader takes JSON lines and CSV, ignores unknown keys, and names the file,
 *     line and column of what it rejects;
 *   - plots of a real trace (a small net) carry the trace's spike count;
 *   - in headless Chromium (skipped with a message when it is missing, and in the sanitizer
 *     run): each SVG parses as XML, renders at its declared size, every text lies inside the
 *     canvas, and the element counts match; a screenshot of all four plots is kept as a test
 *     artefact in <build>/artefacts/test_viz.png.
 */
#include "soma.h"
#include "soma/inspect.h"
#include "soma/viz.h"
#include "test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/soma_viz_test_XXXXXX";

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (b) b[n] = '\0';
    fclose(f);
    return b;
}

static int count(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = s; p && (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static const char *path_of(const char *name) {
    static char b[8][256];
    static int i;
    i = (i + 1) % 8;
    snprintf(b[i], sizeof b[i], "%s/%s", dir, name);
    return b[i];
}

/* Well-formed XML: balanced tags, quoted attributes, known entities, one root. Returns NULL
 * or what is wrong. */
static const char *xml_check(const char *s) {
    static char why[160];
    char stack[64][32];
    int depth = 0, roots = 0;
    for (const char *p = s; *p;) {
        if (*p == '&') {
            static const char *ents[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};
            bool ok = p[1] == '#';
            for (int i = 0; i < 5; i++) ok |= strncmp(p, ents[i], strlen(ents[i])) == 0;
            if (!ok) return "bare '&'";
            p++;
            continue;
        }
        if (*p != '<') {
            if (depth == 0 && *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') return "text outside the root";
            p++;
            continue;
        }
        if (p[1] == '?' || p[1] == '!') {
            const char *end = p[1] == '?' ? "?>" : ">", *q = strstr(p, end);
            if (!q) return "unterminated declaration";
            p = q + strlen(end);
            continue;
        }
        if (p[1] == '/') {
            const char *q = strchr(p, '>');
            if (!q || depth == 0) return "stray end tag";
            depth--;
            if ((size_t)(q - p - 2) != strlen(stack[depth]) || strncmp(p + 2, stack[depth], (size_t)(q - p - 2))) {
                snprintf(why, sizeof why, "</%.20s> closes <%.31s>", p + 2, stack[depth]);
                return why;
            }
            p = q + 1;
            continue;
        }
        const char *q = ++p;
        while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '-' || *q == ':') q++;
        if (q == p || q - p >= 32) return "bad tag name";
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(q - p), p);
        for (;;) {
            while (*q == ' ' || *q == '\n') q++;
            if (*q == '/' && q[1] == '>') {
                q += 2;
                break;
            }
            if (*q == '>') {
                if (depth >= 64) return "too deep";
                snprintf(stack[depth++], 32, "%s", name);
                q++;
                break;
            }
            const char *a = q;
            while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (q > a && *q >= '0' && *q <= '9') || *q == '-' ||
                   *q == ':')
                q++;
            if (q == a || *q != '=' || q[1] != '"') {
                snprintf(why, sizeof why, "bad attribute in <%s>", name);
                return why;
            }
            q += 2;
            while (*q && *q != '"') {
                if (*q == '<') return "'<' in an attribute";
                q++;
            }
            if (!*q) return "unterminated attribute";
            q++;
        }
        if (depth == 1 && strcmp(name, "svg") == 0) roots++;
        p = q;
    }
    if (depth) return "unclosed tags";
    return roots == 1 ? NULL : "not one <svg> root";
}

/* Checks the things every plot must have. Returns the file's text (caller frees). */
static char *check_common(const char *path) {
    char *s = slurp(path);
    CHECK(s != NULL);
    if (!s) return NULL;
    const char *why = xml_check(s);
    if (why) fprintf(stderr, "%s: %s\n", path, why);
    CHECK(why == NULL);
    CHECK(count(s, "class=\"title\"") == 1);
    CHECK(count(s, "<title>") == 1);
    CHECK(count(s, "class=\"xlabel\"") >= 1);
    CHECK(count(s, "class=\"ylabel\"") >= 1);
    CHECK(count(s, "class=\"legend\"") >= 1);
    CHECK(count(s, "class=\"legend-item\"") >= 1);
    CHECK(count(s, "class=\"ticklabel\"") >= 4);
    CHECK(strlen(s) < 400000);
    return s;
}

/* ---- expectations shared with the browser check ------------------------------------------- */

typedef struct expect {
    const char *file;
    const char *selector;
    int n;
} expect;
static expect expects[16];
static int n_expects;

static void expect_count(const char *file, const char *selector, int n) {
    if (n_expects < 16) expects[n_expects++] = (expect){file, selector, n};
}

enum { T = 12, N0 = 30, N1 = 8 };
static float spk0[T * N0], spk1[T * N1], mem[3][T];

TEST(raster) {
    int total = 0;
    for (int t = 0; t < T; t++) {
        for (int k = 0; k < N0; k++) total += (spk0[t * N0 + k] = (float)((t * 7 + k * 3) % 5 == 0));
        for (int k = 0; k < N1; k++) spk1[t * N1 + k] = (float)((t + k) % 4 == 0);
    }
    soma_raster_panel p[2] = {{"layer 0: 30 neurons <&>", spk0, N0, NULL}, {"layer 1", spk1, N1, "output neuron"}};
    soma_error err = {0};
    CHECK(soma_plot_raster(path_of("raster.svg"), "Raster \"test\" <&>", T, p, 2, &err) == SOMA_OK);
    char *s = check_common(path_of("raster.svg"));
    if (!s) return;
    char want[64];
    snprintf(want, sizeof want, "data-count=\"%d\"", total);
    CHECK(strstr(s, want) != NULL);
    CHECK(count(s, "class=\"panel\"") == 2);
    CHECK(count(s, "class=\"spikes\"") == 2);
    CHECK(count(s, "class=\"legend-item\"") == 2);
    CHECK(strstr(s, "Raster &quot;test&quot; &lt;&amp;&gt;") != NULL);
    CHECK(strstr(s, "output neuron") != NULL);
    CHECK(count(s, "M") >= total); /* one move-to per spike in the path data */
    expect_count("raster.svg", "g.panel", 2);
    expect_count("raster.svg", "path.spikes", 2);
    free(s);
    CHECK(soma_plot_raster(path_of("x.svg"), "t", 0, p, 2, &err) == SOMA_E_ARG);
    CHECK(soma_plot_raster("/nonexistent/x.svg", "t", T, p, 2, &err) == SOMA_E_IO);
    CHECK_MSG(err, "/nonexistent/x.svg");
}

TEST(membrane) {
    float sp[3][T];
    int spikes = 0;
    for (int i = 0; i < 3; i++)
        for (int t = 0; t < T; t++) {
            mem[i][t] = 0.3f * (float)((t + i) % 5);
            sp[i][t] = mem[i][t] >= 1.0f;
            spikes += sp[i][t] != 0;
        }
    soma_membrane_line l[3] = {{"neuron 1", mem[0], sp[0]}, {"neuron 2", mem[1], sp[1]}, {"neuron 3", mem[2], NULL}};
    for (int t = 0; t < T; t++) spikes -= sp[2][t] != 0; /* no spike marks without spikes */
    CHECK(soma_plot_membrane(path_of("membrane.svg"), "Membrane", T, l, 3, 1.0f, NULL) == SOMA_OK);
    char *s = check_common(path_of("membrane.svg"));
    if (!s) return;
    CHECK(count(s, "class=\"trace\"") == 3);
    CHECK(count(s, "class=\"spike\"") == spikes);
    CHECK(count(s, "class=\"threshold\"") == 1);
    CHECK(count(s, "class=\"legend-item\"") == 5); /* 3 neurons, threshold, spike */
    CHECK(strstr(s, "threshold θ = 1") != NULL);
    expect_count("membrane.svg", "polyline.trace", 3);
    expect_count("membrane.svg", "circle.spike", spikes);
    expect_count("membrane.svg", "line.threshold", 1);
    free(s);
}

TEST(rates) {
    double r0[50], r1[7];
    for (int i = 0; i < 50; i++) r0[i] = i % 10 == 0 ? 0 : 0.01 * i;
    for (int i = 0; i < 7; i++) r1[i] = 0.1 * i;
    soma_hist_series h[2] = {{"layer 0: hidden", r0, 50}, {"layer 1: output", r1, 7}};
    CHECK(soma_plot_rates(path_of("rates.svg"), "Rates", h, 2, 15, NULL) == SOMA_OK);
    char *s = check_common(path_of("rates.svg"));
    if (!s) return;
    CHECK(count(s, "class=\"bar\"") == 30);
    CHECK(count(s, "class=\"mean\"") == 2);
    CHECK(strstr(s, "10% silent") != NULL); /* 5 of 50 are 0 */
    expect_count("rates.svg", "rect.bar", 30);
    free(s);
    CHECK(soma_plot_rates(path_of("x.svg"), "Rates", h, 2, 0, NULL) == SOMA_E_ARG);
}

static const char *jsonl =
    "{\"type\":\"step\",\"epoch\":0.5,\"step\":10,\"loss\":2.0,\"accuracy\":0.4,\"samples_per_s\":100,\"lr\":0.001}\n"
    "{\"type\":\"step\",\"epoch\":1,\"step\":20,\"loss\":1.5,\"accuracy\":0.6,\"samples_per_s\":100,\"lr\":0.001}\n"
    "{\"type\":\"epoch\",\"epoch\":1,\"step\":20,\"train_loss\":1.7,\"train_accuracy\":0.5,\"test_loss\":1.6,"
    "\"test_accuracy\":0.55,\"train_samples_per_s\":100,\"firing_rate\":[0.1,0.05],\"note\":\"x\",\"ok\":true,\"z\":null}\n"
    "\n"
    "{\"type\":\"step\",\"epoch\":1.5,\"step\":30,\"loss\":1.2,\"accuracy\":0.7}\n"
    "{\"epoch\":2,\"train_loss\":1.1,\"train_accuracy\":0.75,\"test_loss\":1.2,\"test_accuracy\":0.72,\"firing_rate\":[0.12,0.06]}\n";

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) fputs(text, f), fclose(f);
}

TEST(metrics_log_and_curves) {
    soma_metrics_row r;
    soma_error err = {0};
    const char *line = "{ \"epoch\" : 3 , \"step\":7,\"loss\":0.25,\"accuracy\":0.5,\"extra\":[1,2,3] }";
    CHECK(soma_metrics_parse_line(&r, line, strlen(line), &err) == SOMA_OK);
    CHECK(r.epoch == 3 && r.step == 7 && r.loss == 0.25 && r.accuracy == 0.5 && !r.is_epoch && isnan(r.test_loss));
    const char *bad[] = {"", "[1]", "{\"a\":}", "{\"a\" 1}", "{\"a\":1", "{\"a\":1}x", "{\"a\":\"x}", "{a:1}",
                         "{\"a\":[1,]}", "{\"a\":1,}", "{\"loss\":1e}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err.msg[0] = '\0';
        CHECK(soma_metrics_parse_line(&r, bad[i], strlen(bad[i]), &err) == SOMA_E_FORMAT);
        CHECK_MSG(err, "column");
    }
    write_text(path_of("m.jsonl"), jsonl);
    soma_metrics m;
    CHECK(soma_metrics_load(&m, path_of("m.jsonl"), &err) == SOMA_OK);
    CHECK(m.n == 5);
    if (m.n == 5) {
        CHECK(!m.rows[0].is_epoch && m.rows[2].is_epoch && m.rows[4].is_epoch);
        CHECK(m.rows[2].loss == 1.7 && m.rows[2].test_accuracy == 0.55 && m.rows[2].n_rates == 2 && m.rows[2].rate[1] == 0.05);
    }
    CHECK(soma_plot_curves(path_of("curves.svg"), "Curves", &m, &err) == SOMA_OK);
    soma_metrics_free(&m);
    char *s = check_common(path_of("curves.svg"));
    if (s) {
        CHECK(count(s, "class=\"panel\"") == 3);       /* loss, accuracy, firing rates */
        CHECK(count(s, "class=\"curve\"") == 3 + 3 + 2); /* per panel: step, train, test / two layers */
        CHECK(count(s, "class=\"marker\"") == 2 * 4 + 2 * 2);
        CHECK(strstr(s, "accuracy (%)") != NULL);
        expect_count("curves.svg", "g.panel", 3);
        expect_count("curves.svg", "polyline.curve", 8);
        free(s);
    }
    /* CSV with a header */
    write_text(path_of("m.csv"), "epoch,step,type,loss,accuracy,test_loss,test_accuracy,firing_rate_0\n"
                                 "0.5,10,step,2.0,0.4,,,\n1,20,epoch,1.7,0.5,1.6,0.55,0.1\n");
    CHECK(soma_metrics_load(&m, path_of("m.csv"), &err) == SOMA_OK);
    CHECK(m.n == 2 && !m.rows[0].is_epoch && m.rows[1].is_epoch && m.rows[1].rate[0] == 0.1);
    soma_metrics_free(&m);
    write_text(path_of("bad.jsonl"), "{\"epoch\":1}\n\n{\"epoch\":2,}\n");
    CHECK(soma_metrics_load(&m, path_of("bad.jsonl"), &err) == SOMA_E_FORMAT);
    CHECK_MSG(err, "bad.jsonl:3: column");
    write_text(path_of("empty.jsonl"), "\n\n");
    CHECK(soma_metrics_load(&m, path_of("empty.jsonl"), &err) == SOMA_E_FORMAT);
    CHECK(soma_metrics_load(&m, path_of("missing.jsonl"), &err) == SOMA_E_IO);
}

/* A real trace: the raster carries exactly the trace's spikes. */
TEST(plots_of_a_trace) {
    soma_net_config c = soma_net_default_config();
    c.T = 10, c.neuron.theta = 0.4f, c.integrate.mode = SOMA_INTEGRATE_BILINEAR;
    soma_net *net = NULL;
    CHECK(soma_net_create(&net, "16-10-3", &c, 4, NULL) == SOMA_OK);
    float x[16];
    for (int i = 0; i < 16; i++) x[i] = (float)(i % 4) / 3.0f;
    soma_trace tr;
    CHECK(soma_net_trace(net, x, 0, 1, &tr, NULL) == SOMA_OK);
    soma_raster_panel p[3] = {{"input", tr.input, 16, "input index"}, {"layer 0", tr.out[0], 10, NULL}, {"layer 1", tr.out[1], 3, NULL}};
    CHECK(soma_plot_raster(path_of("trace.svg"), "trace", tr.T, p, 3, NULL) == SOMA_OK);
    char *s = check_common(path_of("trace.svg"));
    for (int l = 0; l < 3 && s; l++) {
        double n = 0;
        const float *v = l ? tr.out[l - 1] : tr.input;
        for (int64_t k = 0; k < tr.T * (l ? tr.dim[l - 1] : 16); k++) n += v[k];
        char want[64];
        snprintf(want, sizeof want, "data-count=\"%.0f\"", n);
        CHECK(strstr(s, want) != NULL);
    }
    free(s);
    soma_trace_free(&tr);
    soma_net_free(net);
}

/* ---- the command-line verbs, end to end ------------------------------------------------------ */

static char soma_bin[512];

static int run(const char *args) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s %s >%s 2>%s", soma_bin, args, path_of("cli.out"), path_of("cli.err"));
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static bool file_has(const char *path, const char *needle) {
    char *s = slurp(path);
    bool ok = s && strstr(s, needle);
    if (!ok) fprintf(stderr, "  %s lacks \"%s\": %.300s\n", path, needle, s ? s : "(missing)");
    free(s);
    return ok;
}

TEST(cli_verbs) {
    if (access(soma_bin, X_OK) != 0) {
        printf("  SKIP: no %s (make cli)\n", soma_bin);
        return;
    }
    /* a small CSV problem: the class is the largest of 4 features */
    FILE *f = fopen(path_of("d.csv"), "w");
    CHECK(f != NULL);
    if (!f) return;
    soma_rng r;
    soma_rng_seed(&r, 3);
    for (int i = 0; i < 300; i++) {
        float v[4];
        int best = 0;
        for (int j = 0; j < 4; j++) v[j] = soma_rng_uniform(&r), best = v[j] > v[best] ? j : best;
        fprintf(f, "%.3f,%.3f,%.3f,%.3f,%d\n", v[0], v[1], v[2], v[3], best);
    }
    fclose(f);
    char a[1400], data[300];
    snprintf(data, sizeof data, "%s", path_of("d.csv")); /* path_of's buffers rotate */
    snprintf(a, sizeof a, "train --data csv:%s --test-data csv:%s --net 4-12b-4 -T 4 --epochs 2 --batch 30 --lr 0.01 "
             "--quiet --metrics %s --metrics-every 3 --save %s", data, data, path_of("run.jsonl"), path_of("m.soma"));
    CHECK(run(a) == 0);
    CHECK(file_has(path_of("run.jsonl"), "\"type\":\"step\""));
    CHECK(file_has(path_of("run.jsonl"), "\"type\":\"epoch\",\"epoch\":2,\"step\":20"));
    snprintf(a, sizeof a, "plot raster %s --data csv:%s --sample 3 --out %s", path_of("m.soma"), data, path_of("c1.svg"));
    CHECK(run(a) == 0 && file_has(path_of("c1.svg"), "class=\"spikes\""));
    snprintf(a, sizeof a, "plot membrane --model %s --data csv:%s --neurons 0,2 --out %s", path_of("m.soma"), data, path_of("c2.svg"));
    CHECK(run(a) == 0 && file_has(path_of("c2.svg"), "neuron 2"));
    snprintf(a, sizeof a, "plot rates %s --data csv:%s --bins 5 --out %s", path_of("m.soma"), data, path_of("c3.svg"));
    CHECK(run(a) == 0 && file_has(path_of("c3.svg"), "class=\"bar\""));
    snprintf(a, sizeof a, "plot curves --metrics %s --out %s", path_of("run.jsonl"), path_of("c4.svg"));
    CHECK(run(a) == 0 && file_has(path_of("c4.svg"), "accuracy (%)"));
    snprintf(a, sizeof a, "stats %s --data csv:%s --json", path_of("m.soma"), data);
    CHECK(run(a) == 0 && file_has(path_of("cli.out"), "\"total_sops\""));
    snprintf(a, sizeof a, "stats %s --data csv:%s", path_of("m.soma"), data);
    CHECK(run(a) == 0 && file_has(path_of("cli.out"), "equivalent ANN"));
    snprintf(a, sizeof a, "export %s --c %s/exp/sub --name tiny --int8 --data csv:%s --json", path_of("m.soma"), dir, data);
    CHECK(run(a) == 0 && file_has(path_of("cli.out"), "\"accuracy_change\""));
    CHECK(file_has(path_of("exp/sub/tiny.h"), "tiny_step(tiny_state *st, const float *in, float *out)"));
    /* usage errors: exit 2 with a message */
    CHECK(run("plot") == 2 && file_has(path_of("cli.err"), "raster, membrane, rates or curves"));
    CHECK(run("plot raster --out x.svg") == 2 && file_has(path_of("cli.err"), "a model"));
    CHECK(run("plot curves --out x.svg") == 2 && file_has(path_of("cli.err"), "--metrics"));
    CHECK(run("plot rates m.soma --bins 0 --out x.svg") == 2);
    CHECK(run("stats") == 2);
    CHECK(run("export m.soma") == 2 && file_has(path_of("cli.err"), "--c"));
    CHECK(run("export m.soma --c out --frobnicate") == 2);
    snprintf(a, sizeof a, "export %s --c %s --name 1bad", path_of("m.soma"), dir);
    CHECK(run(a) == 1 && file_has(path_of("cli.err"), "C identifier"));
    snprintf(a, sizeof a, "plot raster %s --data csv:%s --sample 99999 --out %s", path_of("m.soma"), data, path_of("x.svg"));
    CHECK(run(a) == 1 && file_has(path_of("cli.err"), "--sample"));
    snprintf(a, sizeof a, "plot curves --metrics %s --out %s", path_of("d.csv"), path_of("x.svg"));
    CHECK(run(a) == 1);
}

/* ---- headless Chromium ----------------------------------------------------------------------- */

static int sh(const char *cmd) {
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static const char *find_chromium(void) {
    static const char *names[] = {"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", names[i]);
        if (sh(cmd) == 0) return names[i];
    }
    return NULL;
}

/* Writes s as a JavaScript string literal. */
static void js_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '<') fputs("\\x3c", f); /* no "</script>" inside the script */
        else fputc(*p, f);
    }
    fputc('"', f);
}

static char artefacts[512];

TEST(in_headless_chromium) {
    if (getenv("SOMA_SANITIZED")) {
        printf("  SKIP browser check: not part of the sanitizer run\n");
        return;
    }
    const char *chrome = find_chromium();
    if (!chrome) {
        printf("  SKIP browser check: no headless Chromium (apt-get install -y chromium)\n");
        return;
    }
    static const char *files[] = {"raster.svg", "membrane.svg", "rates.svg", "curves.svg"};
    FILE *f = fopen(path_of("check.html"), "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><pre id=\"result\">pending</pre><script>\n"
          "const out = [];\nconst svgs = {", f);
    for (int i = 0; i < 4; i++) {
        char *s = slurp(path_of(files[i]));
        fprintf(f, "%s\"%s\": ", i ? ",\n" : "", files[i]);
        js_string(f, s ? s : "");
        free(s);
    }
    fputs("};\nconst expects = [", f);
    for (int i = 0; i < n_expects; i++)
        fprintf(f, "%s[\"%s\", \"%s\", %d]", i ? ", " : "", expects[i].file, expects[i].selector, expects[i].n);
    fputs("];\n"
          "for (const [name, text] of Object.entries(svgs)) {\n"
          "  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');\n"
          "  if (doc.getElementsByTagName('parsererror').length) { out.push('FAIL ' + name + ' does not parse'); continue; }\n"
          "  const svg = document.importNode(doc.documentElement, true);\n"
          "  document.body.appendChild(svg);\n"
          "  const r = svg.getBoundingClientRect(), w = +svg.getAttribute('width'), h = +svg.getAttribute('height');\n"
          "  out.push((Math.abs(r.width - w) < 1 && Math.abs(r.height - h) < 1 ? 'ok ' : 'FAIL ') + name + ' renders at ' + r.width + 'x' + r.height + ' (declared ' + w + 'x' + h + ')');\n"
          "  let outside = [], texts = 0;\n"
          "  for (const t of svg.querySelectorAll('text')) { const b = t.getBoundingClientRect(); texts++;\n"
          "    if (b.width > 0 && (b.left < r.left - 1 || b.top < r.top - 1 || b.right > r.right + 1 || b.bottom > r.bottom + 1))\n"
          "      outside.push(JSON.stringify(t.textContent)); }\n"
          "  out.push((outside.length === 0 && texts > 5 ? 'ok ' : 'FAIL ') + name + ': ' + texts + ' texts, outside the canvas: ' + outside.join(', '));\n"
          "  for (const [file, sel, n] of expects) if (file === name) {\n"
          "    const got = svg.querySelectorAll(sel).length;\n"
          "    out.push((got === n ? 'ok ' : 'FAIL ') + name + ' ' + sel + ': ' + got + ' (expected ' + n + ')'); }\n"
          "}\n"
          "document.getElementById('result').textContent = 'RESULT\\n' + out.join('\\n') + '\\nEND';\n"
          "</script></body></html>\n", f);
    fclose(f);
    char cmd[2048];
    const char *flags = "--headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update "
                        "--disable-sync --no-first-run --disable-dev-shm-usage --hide-scrollbars";
    snprintf(cmd, sizeof cmd, "timeout 90 %s %s --user-data-dir=%s/profile --virtual-time-budget=3000 --dump-dom file://%s > %s 2>%s",
             chrome, flags, dir, path_of("check.html"), path_of("dom.txt"), path_of("chromium.log"));
    int rc = sh(cmd);
    char *dom = slurp(path_of("dom.txt"));
    CHECK(rc == 0 && dom != NULL);
    const char *res = dom ? strstr(dom, "RESULT") : NULL;
    CHECK(res != NULL && strstr(res, "END") != NULL);
    if (res) {
        int oks = 0, fails = 0;
        for (const char *p = res; (p = strchr(p, '\n')) != NULL; p++) {
            if (strncmp(p + 1, "ok ", 3) == 0) oks++;
            if (strncmp(p + 1, "FAIL", 4) == 0) {
                fails++;
                fprintf(stderr, "  chromium: %.*s\n", (int)strcspn(p + 1, "\n"), p + 1);
            }
        }
        printf("  chromium: %d checks passed, %d failed\n", oks, fails);
        CHECK(fails == 0);
        CHECK(oks == 4 * 2 + n_expects);
    } else {
        fprintf(stderr, "  chromium gave no result (exit %d); see %s\n", rc, path_of("chromium.log"));
    }
    free(dom);
    /* the screenshot artefact: the four plots, one below the other */
    f = fopen(path_of("shot.html"), "w");
    if (f) {
        fputs("<!DOCTYPE html><html><body style=\"margin:0;background:#fff\">", f);
        for (int i = 0; i < 4; i++) fprintf(f, "<img src=\"%s\" style=\"display:block\">", files[i]);
        fputs("</body></html>\n", f);
        fclose(f);
    }
    mkdir(artefacts, 0777);
    snprintf(cmd, sizeof cmd, "timeout 90 %s %s --user-data-dir=%s/profile --window-size=990,2600 --screenshot=%s/test_viz.png file://%s >>%s 2>&1",
             chrome, flags, dir, artefacts, path_of("shot.html"), path_of("chromium.log"));
    rc = sh(cmd);
    char png[600];
    snprintf(png, sizeof png, "%s/test_viz.png", artefacts);
    struct stat st;
    CHECK(rc == 0 && stat(png, &st) == 0 && st.st_size > 10000);
    printf("  screenshot: %s (%lld bytes)\n", png, (long long)(stat(png, &st) == 0 ? st.st_size : 0));
}

int main(int argc, char **argv) {
    (void)argc;
    CHECK(mkdtemp(dir) != NULL);
    /* artefacts go next to the test binaries: <build>/artefacts */
    snprintf(artefacts, sizeof artefacts, "%s", argv[0]);
    char *slash = strrchr(artefacts, '/');
    if (slash) *slash = '\0', slash = strrchr(artefacts, '/');
    if (slash) snprintf(slash, sizeof artefacts - (size_t)(slash - artefacts), "/artefacts");
    else snprintf(artefacts, sizeof artefacts, "artefacts");
    /* and the tool is <build>/soma */
    snprintf(soma_bin, sizeof soma_bin, "%s", artefacts);
    slash = strrchr(soma_bin, '/');
    snprintf(slash ? slash + 1 : soma_bin, sizeof soma_bin - (size_t)(slash ? slash + 1 - soma_bin : 0), "soma");
    RUN(raster);
    RUN(membrane);
    RUN(rates);
    RUN(metrics_log_and_curves);
    RUN(plots_of_a_trace);
    RUN(cli_verbs);
    RUN(in_headless_chromium);
    int rc = test_report("test_viz");
    if (rc == 0) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (sh(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    } else {
        fprintf(stderr, "test_viz: files kept in %s\n", dir);
    }
    return rc;
}
