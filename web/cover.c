/*
 * web/cover.c — the generated SVG covers (see cover.h). Colours are fixed per genre bit so a
 * genre looks the same on every cover; a movie with no genre gets a grey cover, and a hash of
 * the title picks the gradient's angle so two covers of the same genres still differ.
 */
#include "cover.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int web_buf_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (*len + n + 1 > c) c *= 2;
        char *b = realloc(*buf, c);
        if (!b) return -1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = 0;
    return 0;
}

int web_buf_escape(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const char *r = NULL;
        switch (s[i]) {
        case '&': r = "&amp;"; break;
        case '<': r = "&lt;"; break;
        case '>': r = "&gt;"; break;
        case '"': r = "&quot;"; break;
        case '\'': r = "&#39;"; break;
        default: break;
        }
        int rc = r ? web_buf_append(buf, len, cap, r, strlen(r)) : web_buf_append(buf, len, cap, s + i, 1);
        if (rc) return -1;
    }
    return 0;
}

static int appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return -1;
    return web_buf_append(buf, len, cap, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* One colour per genre bit (ML-100k order: unknown, Action, Adventure, Animation, Children's,
 * Comedy, Crime, Documentary, Drama, Fantasy, Film-Noir, Horror, Musical, Mystery, Romance,
 * Sci-Fi, Thriller, War, Western). */
static const char *const palette[] = {
    "#6b7280", "#dc2626", "#ea580c", "#f59e0b", "#84cc16", "#facc15", "#334155", "#0d9488",
    "#7c3aed", "#c026d3", "#111827", "#7f1d1d", "#db2777", "#1e3a8a", "#e11d48", "#0891b2",
    "#4b5563", "#57534e", "#a16207",
};
#define N_PALETTE (int)(sizeof palette / sizeof palette[0])

/* Byte length of the UTF-8 character starting at s. */
static size_t u8len(unsigned char c) {
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

char *web_cover_svg(const char *title, int year, uint32_t genres, const char (*genre_names)[32],
                    int n_genres, size_t *len) {
    char *b = NULL;
    size_t n = 0, cap = 0;
    const char *c1 = "#4b5563", *c2 = "#1f2937";
    int found = 0;
    for (int g = 0; g < 32 && found < 2; g++) {
        if (!(genres >> g & 1u)) continue;
        if (found++ == 0) c1 = palette[g % N_PALETTE];
        else c2 = palette[g % N_PALETTE];
    }
    if (found == 1) c2 = "#111827";
    uint32_t h = 2166136261u;
    for (const char *p = title; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    int angle = (int)(h % 4);
    static const char *const dirs[4][4] = {
        {"0", "0", "1", "1"}, {"1", "0", "0", "1"}, {"0", "0", "0", "1"}, {"0", "1", "1", "0"}};
    int rc = appendf(&b, &n, &cap,
                     "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"300\" height=\"450\" "
                     "viewBox=\"0 0 300 450\" role=\"img\"><defs><linearGradient id=\"g\" "
                     "x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\"><stop offset=\"0\" stop-color=\"%s\"/>"
                     "<stop offset=\"1\" stop-color=\"%s\"/></linearGradient></defs>"
                     "<rect width=\"300\" height=\"450\" fill=\"url(#g)\"/>"
                     "<rect x=\"16\" y=\"16\" width=\"268\" height=\"418\" fill=\"none\" "
                     "stroke=\"#ffffff\" stroke-opacity=\"0.35\" stroke-width=\"2\"/>"
                     "<g fill=\"#ffffff\" font-family=\"sans-serif\" text-anchor=\"middle\">",
                     dirs[angle][0], dirs[angle][1], dirs[angle][2], dirs[angle][3], c1, c2);
    /* The title without its "(1995)" suffix, wrapped at ~16 characters per line. */
    size_t tl = strlen(title);
    if (tl > 7 && title[tl - 1] == ')' && title[tl - 6] == '(') tl -= 7;
    int line = 0;
    size_t i = 0;
    while (i < tl && line < 4 && !rc) {
        size_t start = i, last_space = 0, chars = 0, j = i;
        while (j < tl && chars < 16) {
            if (title[j] == ' ') last_space = j;
            j += u8len((unsigned char)title[j]);
            chars++;
        }
        if (j > tl) j = tl;
        size_t end = j;
        if (j < tl && last_space > start) end = last_space;
        rc |= appendf(&b, &n, &cap, "<text x=\"150\" y=\"%d\" font-size=\"26\" font-weight=\"bold\">",
                      150 + 34 * line);
        size_t out_end = end;
        if (line == 3 && end < tl) out_end = end; /* the last line is cut with an ellipsis */
        rc |= web_buf_escape(&b, &n, &cap, title + start, out_end - start);
        if (line == 3 && end < tl) rc |= web_buf_append(&b, &n, &cap, "\xe2\x80\xa6", 3);
        rc |= web_buf_append(&b, &n, &cap, "</text>", 7);
        i = end;
        while (i < tl && title[i] == ' ') i++;
        line++;
    }
    if (year > 0) rc |= appendf(&b, &n, &cap, "<text x=\"150\" y=\"340\" font-size=\"22\">%d</text>", year);
    int shown = 0;
    for (int g = 0; g < n_genres && g < 32 && genre_names && shown < 3; g++) {
        if (!(genres >> g & 1u)) continue;
        rc |= appendf(&b, &n, &cap, "<text x=\"150\" y=\"%d\" font-size=\"16\" fill-opacity=\"0.85\">",
                      372 + 20 * shown);
        rc |= web_buf_escape(&b, &n, &cap, genre_names[g], strlen(genre_names[g]));
        rc |= web_buf_append(&b, &n, &cap, "</text>", 7);
        shown++;
    }
    rc |= web_buf_append(&b, &n, &cap, "</g></svg>", 10);
    if (rc) {
        free(b);
        return NULL;
    }
    *len = n;
    return b;
}
