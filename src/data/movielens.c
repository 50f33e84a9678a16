/*
 * data/movielens.c — loaders for MovieLens-100k and MovieLens-1M (the catalogue, the users and
 * the ratings), and the ML-100k official split files.
 *
 *   ML-100k  u.genre "name|index", u.occupation "name", u.user "id|age|gender|occupation|zip",
 *            u.item "id|title|release date|video date|url|flag×n_genres" (Latin-1),
 *            u.data and uK.base / uK.test "user<TAB>movie<TAB>rating<TAB>time".
 *   ML-1M    users.dat "id::gender::age code::occupation code::zip", movies.dat
 *            "id::title::Genre|Genre" (Latin-1), ratings.dat "user::movie::rating::time".
 *
 * Every line is checked (field count, integers, ranges, known ids, duplicates) and the first
 * problem is reported as "<file>:<line>: <what>". Titles are converted from Latin-1 to UTF-8
 * unless the whole file already is valid UTF-8 (some redistributed copies were re-encoded).
 * This file does not split or encode anything: see src/rec/.
 */
#include "data/text.h"
#include "soma/rec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ID 10000000L      /* ids above this are taken as corruption (index maps are dense) */
#define MAX_FIELDS 64
#define MAX_FILE_BYTES ((size_t)1 << 31)

typedef struct view {
    const char *s;
    size_t n;
} view;

/* Splits [s, s+n) at every occurrence of sep; returns the number of fields (at most max + 1,
 * which means "too many"). */
static int split(const char *s, size_t n, const char *sep, view *f, int max) {
    const size_t k = strlen(sep);
    int nf = 0;
    size_t start = 0;
    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(s + i, sep, k) != 0) continue;
        if (nf == max) return max + 1;
        f[nf++] = (view){s + start, i - start};
        start = i + k;
        i += k - 1;
    }
    if (nf == max) return max + 1;
    f[nf++] = (view){s + start, n - start};
    return nf;
}

static bool is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') return false;
    return true;
}

/* True if buf is valid UTF-8 (no overlongs or surrogates checked beyond the basics). */
static bool valid_utf8(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        int k = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : -1;
        if (k < 0 || (k == 1 && c < 0xC2)) return false;
        for (int j = 1; j <= k; j++)
            if (i + (size_t)j >= n || (p[i + (size_t)j] & 0xC0) != 0x80) return false;
        i += (size_t)k + 1;
    }
    return true;
}

/* A NUL-terminated UTF-8 copy of [s, s+n): Latin-1 bytes >= 0x80 become two bytes. */
static char *dup_text(const char *s, size_t n, bool latin1) {
    char *out = soma_malloc(2 * n + 1);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        if (latin1 && c >= 0x80) {
            out[k++] = (char)(0xC0 | (c >> 6));
            out[k++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[k++] = (char)c;
        }
    }
    out[k] = '\0';
    return out;
}

static int read_text(uint8_t **buf, size_t *len, const char *dir, const char *file, char *path,
                     size_t path_cap, soma_error *err) {
    int w = snprintf(path, path_cap, "%s/%s", dir, file);
    if (w < 0 || (size_t)w >= path_cap) return soma_fail(err, SOMA_E_ARG, "%s: path too long", dir);
    return soma_read_file(buf, len, path, MAX_FILE_BYTES, err);
}

static int get_id(long *v, view f, const char *name, long line, const char *what, soma_error *err) {
    int rc = soma_text_long(v, f.s, f.n, name, line, what, err);
    if (rc) return rc;
    if (*v < 1 || *v > MAX_ID)
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: %s %ld is out of range (1..%ld)", name, line, what, *v, MAX_ID);
    return SOMA_OK;
}

static char *dup_view(view f) {
    soma_text_trim(&f.s, &f.n);
    return dup_text(f.s, f.n, false);
}

/* ---- generic pieces ------------------------------------------------------------------------ */

void soma_rec_ratings_free(soma_rec_ratings *r) {
    if (!r) return;
    soma_free(r->r);
    memset(r, 0, sizeof *r);
}

void soma_rec_data_free(soma_rec_data *d) {
    if (!d) return;
    for (int32_t i = 0; d->movies && i < d->n_movies; i++) soma_free(d->movies[i].title);
    for (int32_t i = 0; d->genres && i < d->n_genres; i++) soma_free(d->genres[i]);
    for (int32_t i = 0; d->occupations && i < d->n_occupations; i++) soma_free(d->occupations[i]);
    soma_free(d->users);
    soma_free(d->movies);
    soma_free(d->genres);
    soma_free(d->occupations);
    soma_free(d->user_index);
    soma_free(d->movie_index);
    soma_rec_ratings_free(&d->ratings);
    memset(d, 0, sizeof *d);
}

int32_t soma_rec_data_user_index(const soma_rec_data *d, int64_t id) {
    return id >= 0 && id <= d->max_user_id && d->user_index ? d->user_index[id] : -1;
}
int32_t soma_rec_data_movie_index(const soma_rec_data *d, int64_t id) {
    return id >= 0 && id <= d->max_movie_id && d->movie_index ? d->movie_index[id] : -1;
}
int soma_rec_data_genre(const soma_rec_data *d, const char *name) {
    for (int g = 0; name && g < d->n_genres; g++)
        if (strcasecmp(d->genres[g], name) == 0) return g;
    return -1;
}

/* Builds a dense id -> slot map (size max_id + 1, -1 = none); SOMA_E_FORMAT on duplicates. */
static int build_index(int32_t **out, int32_t *max_out, const int32_t *ids, int32_t n,
                       const char *name, const char *what, soma_error *err) {
    int32_t mx = 0;
    for (int32_t i = 0; i < n; i++) mx = ids[i] > mx ? ids[i] : mx;
    int32_t *ix = soma_malloc(((size_t)mx + 1) * sizeof *ix);
    if (!ix) return soma_fail(err, SOMA_E_NOMEM, "%s: out of memory", name);
    for (int32_t i = 0; i <= mx; i++) ix[i] = -1;
    for (int32_t i = 0; i < n; i++) {
        if (ix[ids[i]] >= 0) {
            soma_free(ix);
            return soma_fail(err, SOMA_E_FORMAT, "%s: %s id %d appears twice", name, what, ids[i]);
        }
        ix[ids[i]] = i;
    }
    *out = ix, *max_out = mx;
    return SOMA_OK;
}

static int count_lines(const char *t, size_t len) {
    int64_t n = 1;
    for (size_t i = 0; i < len; i++) n += t[i] == '\n';
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

int soma_rec_parse_ratings(soma_rec_ratings *out, const soma_rec_data *d, const char *text,
                           size_t len, const char *sep, const char *name, soma_error *err) {
    memset(out, 0, sizeof *out);
    int64_t cap = 1;
    for (size_t i = 0; i < len; i++) cap += text[i] == '\n';
    soma_rec_rating *r = soma_malloc((size_t)cap * sizeof *r);
    if (!r) return soma_fail(err, SOMA_E_NOMEM, "%s: out of memory for %lld ratings", name, (long long)cap);
    soma_text_cursor c;
    soma_text_begin(&c, text, len);
    const char *s;
    size_t n;
    int64_t k = 0;
    int rc = SOMA_OK;
    while (soma_text_next(&c, &s, &n)) {
        if (is_blank(s, n)) continue;
        view f[5];
        int nf = split(s, n, sep, f, 4);
        if (nf != 4) {
            rc = soma_fail(err, SOMA_E_FORMAT, "%s:%ld: expected 4 fields (user%smovie%srating%stime), found %s%d", name,
                           c.line, sep[0] == '\t' ? "<TAB>" : sep, sep[0] == '\t' ? "<TAB>" : sep,
                           sep[0] == '\t' ? "<TAB>" : sep, nf > 4 ? "more than " : "", nf > 4 ? 4 : nf);
            break;
        }
        long u, m, t;
        float v;
        if ((rc = get_id(&u, f[0], name, c.line, "user id", err))) break;
        if ((rc = get_id(&m, f[1], name, c.line, "movie id", err))) break;
        if ((rc = soma_text_float(&v, f[2].s, f[2].n, name, c.line, "rating", err))) break;
        if ((rc = soma_text_long(&t, f[3].s, f[3].n, name, c.line, "timestamp", err))) break;
        if (v < 0.5f || v > 5.0f) {
            rc = soma_fail(err, SOMA_E_FORMAT, "%s:%ld: rating %g is outside 0.5..5", name, c.line, (double)v);
            break;
        }
        int32_t us = soma_rec_data_user_index(d, u), ms = soma_rec_data_movie_index(d, m);
        if (us < 0 || ms < 0) {
            rc = soma_fail(err, SOMA_E_FORMAT, "%s:%ld: %s id %ld is not in the %s file", name, c.line,
                           us < 0 ? "user" : "movie", us < 0 ? u : m, us < 0 ? "user" : "movie");
            break;
        }
        r[k++] = (soma_rec_rating){us, ms, v, (int64_t)t};
    }
    if (rc) {
        soma_free(r);
        return rc;
    }
    if (k == 0) {
        soma_free(r);
        return soma_fail(err, SOMA_E_FORMAT, "%s: no ratings", name);
    }
    out->n = k, out->r = r;
    return SOMA_OK;
}

static int load_ratings_file(soma_rec_ratings *out, const soma_rec_data *d, const char *dir,
                             const char *file, const char *sep, soma_error *err) {
    char path[4096];
    uint8_t *buf;
    size_t len;
    int rc = read_text(&buf, &len, dir, file, path, sizeof path, err);
    if (rc) return rc;
    rc = soma_rec_parse_ratings(out, d, (const char *)buf, len, sep, path, err);
    soma_free(buf);
    return rc;
}

static void rating_range(soma_rec_data *d) {
    d->rating_min = 5.0f, d->rating_max = 0.5f;
    for (int64_t i = 0; i < d->ratings.n; i++) {
        float v = d->ratings.r[i].rating;
        d->rating_min = v < d->rating_min ? v : d->rating_min;
        d->rating_max = v > d->rating_max ? v : d->rating_max;
    }
}

/* Year from "(1995)" at the end of a title, 0 if none. */
static int32_t year_of_title(view t) {
    soma_text_trim(&t.s, &t.n);
    if (t.n >= 6 && t.s[t.n - 1] == ')' && t.s[t.n - 6] == '(') {
        int y = 0;
        for (size_t i = t.n - 5; i < t.n - 1; i++) {
            if (t.s[i] < '0' || t.s[i] > '9') return 0;
            y = 10 * y + (t.s[i] - '0');
        }
        return y;
    }
    return 0;
}

static int check_zip(view z, const char *name, long line, soma_error *err) {
    soma_text_trim(&z.s, &z.n);
    if (z.n >= 16) return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: zip code longer than 15 characters", name, line);
    for (size_t i = 0; i < z.n; i++)
        if ((unsigned char)z.s[i] < 0x20 || (unsigned char)z.s[i] >= 0x7f)
            return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: zip code has a non-ASCII character", name, line);
    return SOMA_OK;
}

/* ---- ML-100k --------------------------------------------------------------------------------- */

static int load_names(char ***out, int32_t *n_out, const char *text, size_t len, bool indexed,
                      const char *name, soma_error *err) {
    int cap = count_lines(text, len);
    char **names = soma_calloc((size_t)cap, sizeof *names);
    if (!names) return soma_fail(err, SOMA_E_NOMEM, "%s: out of memory", name);
    int32_t n = 0;
    int rc = SOMA_OK;
    soma_text_cursor c;
    soma_text_begin(&c, text, len);
    const char *s;
    size_t l;
    while (soma_text_next(&c, &s, &l)) {
        if (is_blank(s, l)) continue;
        view f[3];
        int nf = indexed ? split(s, l, "|", f, 2) : 1;
        if (!indexed) f[0] = (view){s, l};
        if (nf != (indexed ? 2 : 1)) {
            rc = soma_fail(err, SOMA_E_FORMAT, "%s:%ld: expected \"name|index\"", name, c.line);
            break;
        }
        if (indexed) {
            long ix;
            if ((rc = soma_text_long(&ix, f[1].s, f[1].n, name, c.line, "genre index", err))) break;
            if (ix != n) {
                rc = soma_fail(err, SOMA_E_FORMAT, "%s:%ld: genre index %ld, expected %d (in order)", name, c.line, ix, n);
                break;
            }
        }
        if (n >= SOMA_REC_MAX_GENRES && indexed) {
            rc = soma_fail(err, SOMA_E_FORMAT, "%s:%ld: more than %d genres", name, c.line, SOMA_REC_MAX_GENRES);
            break;
        }
        view t = f[0];
        soma_text_trim(&t.s, &t.n);
        if (t.n == 0) {
            rc = soma_fail(err, SOMA_E_FORMAT, "%s:%ld: empty name", name, c.line);
            break;
        }
        if (!(names[n] = dup_view(t))) {
            rc = soma_fail(err, SOMA_E_NOMEM, "%s: out of memory", name);
            break;
        }
        n++;
    }
    if (!rc && n == 0) rc = soma_fail(err, SOMA_E_FORMAT, "%s: no entries", name);
    if (rc) {
        for (int32_t i = 0; i < n; i++) soma_free(names[i]);
        soma_free(names);
        return rc;
    }
    *out = names, *n_out = n;
    return SOMA_OK;
}

/* ---- the user and movie tables ------------------------------------------------------------- */

/* Parses one line of a user or movie file into slot n and returns the line's id. A movie row
 * copies its title last, so a failing row never leaves anything to free. */
typedef int (*row_fn)(soma_rec_data *d, int32_t n, view line, const char *name, long lno,
                      bool latin1, long *id, soma_error *err);

/* The loop every user and movie file shares: one record per non-blank line, file ids mapped to
 * slots, an empty file or a repeated id rejected. Titles are Latin-1 unless the whole file is
 * valid UTF-8. */
static int parse_table(soma_rec_data *d, bool movies, row_fn row, const char *text, size_t len,
                       const char *name, soma_error *err) {
    const int cap = count_lines(text, len);
    const bool latin1 = movies && !valid_utf8((const uint8_t *)text, len);
    const char *what = movies ? "movie" : "user";
    int32_t *ids = soma_malloc((size_t)cap * sizeof *ids);
    void *rows = movies ? (void *)(d->movies = soma_calloc((size_t)cap, sizeof *d->movies))
                        : (void *)(d->users = soma_calloc((size_t)cap, sizeof *d->users));
    int rc = ids && rows ? SOMA_OK : soma_fail(err, SOMA_E_NOMEM, "%s: out of memory", name);
    soma_text_cursor c;
    soma_text_begin(&c, text, len);
    const char *s;
    size_t l;
    int32_t n = 0;
    while (!rc && soma_text_next(&c, &s, &l)) {
        if (is_blank(s, l)) continue;
        long id;
        if ((rc = row(d, n, (view){s, l}, name, c.line, latin1, &id, err))) break;
        ids[n++] = (int32_t)id;
    }
    *(movies ? &d->n_movies : &d->n_users) = n;
    if (!rc && n == 0) rc = soma_fail(err, SOMA_E_FORMAT, "%s: no %ss", name, what);
    if (!rc)
        rc = movies ? build_index(&d->movie_index, &d->max_movie_id, ids, n, name, what, err)
                    : build_index(&d->user_index, &d->max_user_id, ids, n, name, what, err);
    soma_free(ids);
    return rc;
}

/* What both user formats check the same way: gender M/F and a printable zip code. */
static int set_user(soma_rec_user *u, long id, long age, view gender, int32_t occupation, view zip,
                    const char *name, long line, soma_error *err) {
    soma_text_trim(&gender.s, &gender.n);
    if (gender.n != 1 || (gender.s[0] != 'M' && gender.s[0] != 'F'))
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: gender must be M or F", name, line);
    int rc = check_zip(zip, name, line, err);
    if (rc) return rc;
    soma_text_trim(&zip.s, &zip.n);
    memcpy(u->zip, zip.s, zip.n);
    u->id = (int32_t)id, u->age = (int32_t)age, u->gender = gender.s[0], u->occupation = occupation;
    return SOMA_OK;
}

/* The title is copied last (see row_fn); year 0 falls back to "(1995)" at the title's end. */
static int set_movie(soma_rec_movie *m, long id, view title, int32_t year, uint32_t genres, bool latin1,
                     const char *name, soma_error *err) {
    soma_text_trim(&title.s, &title.n);
    m->id = (int32_t)id, m->year = year ? year : year_of_title(title), m->genres = genres;
    if (!(m->title = dup_text(title.s, title.n, latin1))) return soma_fail(err, SOMA_E_NOMEM, "%s: out of memory", name);
    return SOMA_OK;
}

/* ---- ML-100k rows -------------------------------------------------------------------------- */

/* id|age|gender|occupation|zip, the occupation by name from u.occupation. */
static int user_100k(soma_rec_data *d, int32_t n, view line, const char *name, long lno, bool latin1,
                     long *id, soma_error *err) {
    (void)latin1;
    view f[6];
    int nf = split(line.s, line.n, "|", f, 5);
    if (nf != 5)
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: expected 5 fields (id|age|gender|occupation|zip), found %s%d",
                         name, lno, nf > 5 ? "more than " : "", nf > 5 ? 5 : nf);
    long age;
    int rc;
    if ((rc = get_id(id, f[0], name, lno, "user id", err))) return rc;
    if ((rc = soma_text_long(&age, f[1].s, f[1].n, name, lno, "age", err))) return rc;
    if (age < 0 || age > 150) return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: age %ld is out of range (0..150)", name, lno, age);
    view o = f[3];
    soma_text_trim(&o.s, &o.n);
    int32_t occ = -1;
    for (int32_t j = 0; j < d->n_occupations; j++)
        if (strlen(d->occupations[j]) == o.n && memcmp(d->occupations[j], o.s, o.n) == 0) occ = j;
    if (occ < 0) {
        char q[64];
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: occupation %s is not in u.occupation", name, lno, soma_text_quote(q, o.s, o.n));
    }
    return set_user(&d->users[n], *id, age, f[2], occ, f[4], name, lno, err);
}

/* id|title|release date|video date|url|one 0/1 flag per genre of u.genre. */
static int item_100k(soma_rec_data *d, int32_t n, view line, const char *name, long lno, bool latin1,
                     long *id, soma_error *err) {
    const int want = 5 + d->n_genres;
    view f[MAX_FIELDS + 1];
    int nf = split(line.s, line.n, "|", f, MAX_FIELDS);
    if (nf != want)
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: expected %d fields (id|title|release date|video date|url|%d genre flags), found %s%d",
                         name, lno, want, d->n_genres, nf > MAX_FIELDS ? "more than " : "", nf > MAX_FIELDS ? MAX_FIELDS : nf);
    int rc;
    if ((rc = get_id(id, f[0], name, lno, "movie id", err))) return rc;
    uint32_t genres = 0;
    for (int g = 0; g < d->n_genres; g++) {
        long flag;
        if ((rc = soma_text_long(&flag, f[5 + g].s, f[5 + g].n, name, lno, "genre flag", err))) return rc;
        if (flag != 0 && flag != 1)
            return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: genre flag %d is %ld (expected 0 or 1)", name, lno, g, flag);
        genres |= (uint32_t)flag << g;
    }
    /* release date "01-Jan-1995": the year is its last 4 characters */
    view date = f[2];
    soma_text_trim(&date.s, &date.n);
    long year = 0;
    if (date.n > 0 && (date.n < 4 || soma_text_long(&year, date.s + date.n - 4, 4, name, lno, "release year", NULL) ||
                       year < 1800 || year > 2100)) {
        char q[64];
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: release date %s is not dd-Mon-yyyy", name, lno, soma_text_quote(q, date.s, date.n));
    }
    return set_movie(&d->movies[n], *id, f[1], (int32_t)year, genres, latin1, name, err);
}

static int parse_users_100k(soma_rec_data *d, const char *text, size_t len, const char *name, soma_error *err) {
    return parse_table(d, false, user_100k, text, len, name, err);
}
static int parse_items_100k(soma_rec_data *d, const char *text, size_t len, const char *name, soma_error *err) {
    return parse_table(d, true, item_100k, text, len, name, err);
}

typedef int (*parse_fn)(soma_rec_data *d, const char *text, size_t len, const char *name, soma_error *err);

static int load_with(soma_rec_data *d, const char *dir, const char *file, parse_fn fn, soma_error *err) {
    char path[4096];
    uint8_t *buf;
    size_t len;
    int rc = read_text(&buf, &len, dir, file, path, sizeof path, err);
    if (rc) return rc;
    rc = fn(d, (const char *)buf, len, path, err);
    soma_free(buf);
    return rc;
}

static int load_names_file(char ***names, int32_t *n, const char *dir, const char *file, bool indexed,
                           soma_error *err) {
    char path[4096];
    uint8_t *buf;
    size_t len;
    int rc = read_text(&buf, &len, dir, file, path, sizeof path, err);
    if (rc) return rc;
    rc = load_names(names, n, (const char *)buf, len, indexed, path, err);
    soma_free(buf);
    return rc;
}

int soma_rec_load_ml100k(soma_rec_data *d, const char *dir, soma_error *err) {
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "ml-100k");
    int rc = load_names_file(&d->genres, &d->n_genres, dir, "u.genre", true, err);
    if (!rc) rc = load_names_file(&d->occupations, &d->n_occupations, dir, "u.occupation", false, err);
    if (!rc) rc = load_with(d, dir, "u.user", parse_users_100k, err);
    if (!rc) rc = load_with(d, dir, "u.item", parse_items_100k, err);
    if (!rc) rc = load_ratings_file(&d->ratings, d, dir, "u.data", "\t", err);
    if (rc) {
        soma_rec_data_free(d);
        return rc;
    }
    rating_range(d);
    return SOMA_OK;
}

/* ---- ML-1M ------------------------------------------------------------------------------------ */

static const char *const ml1m_genres[] = {
    "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama", "Fantasy",
    "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller", "War", "Western"};
static const char *const ml1m_occupations[] = {
    "other", "academic/educator", "artist", "clerical/admin", "college/grad student", "customer service",
    "doctor/health care", "executive/managerial", "farmer", "homemaker", "K-12 student", "lawyer",
    "programmer", "retired", "sales/marketing", "scientist", "self-employed", "technician/engineer",
    "tradesman/craftsman", "unemployed", "writer"};

/* id::gender::age code::occupation code::zip */
static int user_1m(soma_rec_data *d, int32_t n, view line, const char *name, long lno, bool latin1,
                   long *id, soma_error *err) {
    (void)latin1;
    view f[6];
    int nf = split(line.s, line.n, "::", f, 5);
    if (nf != 5)
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: expected 5 fields (id::gender::age code::occupation code::zip), found %s%d",
                         name, lno, nf > 5 ? "more than " : "", nf > 5 ? 5 : nf);
    long age, occ;
    int rc;
    if ((rc = get_id(id, f[0], name, lno, "user id", err))) return rc;
    if ((rc = soma_text_long(&age, f[2].s, f[2].n, name, lno, "age code", err))) return rc;
    if (age != 1 && age != 18 && age != 25 && age != 35 && age != 45 && age != 50 && age != 56)
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: age code %ld is not one of 1, 18, 25, 35, 45, 50, 56", name, lno, age);
    if ((rc = soma_text_long(&occ, f[3].s, f[3].n, name, lno, "occupation code", err))) return rc;
    if (occ < 0 || occ > 20)
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: occupation code %ld is out of range (0..20)", name, lno, occ);
    return set_user(&d->users[n], *id, age, f[1], (int32_t)occ, f[4], name, lno, err);
}

/* id::title::Genre|Genre — the title may contain ':', but the first and last "::" delimit it. */
static int movie_1m(soma_rec_data *d, int32_t n, view line, const char *name, long lno, bool latin1,
                    long *id, soma_error *err) {
    const char *s = line.s, *a = NULL, *b = NULL;
    for (size_t i = 0; i + 1 < line.n; i++)
        if (s[i] == ':' && s[i + 1] == ':') {
            if (!a) a = s + i;
            b = s + i;
        }
    if (!a || a == b) return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: expected 3 fields (id::title::genres)", name, lno);
    view fid = {s, (size_t)(a - s)}, ft = {a + 2, (size_t)(b - a - 2)}, fg = {b + 2, (size_t)(s + line.n - b - 2)};
    int rc;
    if ((rc = get_id(id, fid, name, lno, "movie id", err))) return rc;
    soma_text_trim(&fg.s, &fg.n);
    uint32_t genres = 0;
    view gs[MAX_FIELDS + 1];
    int ng = fg.n ? split(fg.s, fg.n, "|", gs, MAX_FIELDS) : 0;
    for (int j = 0; j < ng; j++) {
        view g = gs[j];
        soma_text_trim(&g.s, &g.n);
        int found = -1;
        for (int k = 0; k < d->n_genres; k++)
            if (strlen(d->genres[k]) == g.n && strncasecmp(d->genres[k], g.s, g.n) == 0) found = k;
        if (found < 0) {
            char q[64];
            return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: unknown genre %s", name, lno, soma_text_quote(q, g.s, g.n));
        }
        genres |= 1u << found;
    }
    return set_movie(&d->movies[n], *id, ft, 0, genres, latin1, name, err);
}

static int parse_users_1m(soma_rec_data *d, const char *text, size_t len, const char *name, soma_error *err) {
    return parse_table(d, false, user_1m, text, len, name, err);
}
static int parse_movies_1m(soma_rec_data *d, const char *text, size_t len, const char *name, soma_error *err) {
    return parse_table(d, true, movie_1m, text, len, name, err);
}

static int fixed_names(char ***out, int32_t *n_out, const char *const *src, int n, soma_error *err) {
    char **names = soma_calloc((size_t)n, sizeof *names);
    if (!names) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        if (!(names[i] = dup_text(src[i], strlen(src[i]), false))) {
            for (int j = 0; j < i; j++) soma_free(names[j]);
            soma_free(names);
            return soma_fail(err, SOMA_E_NOMEM, "out of memory");
        }
    *out = names, *n_out = n;
    return SOMA_OK;
}

int soma_rec_load_ml1m(soma_rec_data *d, const char *dir, soma_error *err) {
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "ml-1m");
    int rc = fixed_names(&d->genres, &d->n_genres, ml1m_genres, 18, err);
    if (!rc) rc = fixed_names(&d->occupations, &d->n_occupations, ml1m_occupations, 21, err);
    if (!rc) rc = load_with(d, dir, "users.dat", parse_users_1m, err);
    if (!rc) rc = load_with(d, dir, "movies.dat", parse_movies_1m, err);
    if (!rc) rc = load_ratings_file(&d->ratings, d, dir, "ratings.dat", "::", err);
    if (rc) {
        soma_rec_data_free(d);
        return rc;
    }
    rating_range(d);
    return SOMA_OK;
}

int soma_rec_load(soma_rec_data *d, const char *dir, soma_error *err) {
    memset(d, 0, sizeof *d);
    if (!dir) return soma_fail(err, SOMA_E_ARG, "soma_rec_load: no directory");
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/u.data", dir);
    if ((f = fopen(path, "rb"))) {
        fclose(f);
        return soma_rec_load_ml100k(d, dir, err);
    }
    snprintf(path, sizeof path, "%s/ratings.dat", dir);
    if ((f = fopen(path, "rb"))) {
        fclose(f);
        return soma_rec_load_ml1m(d, dir, err);
    }
    return soma_fail(err, SOMA_E_IO, "%s: neither u.data (MovieLens-100k) nor ratings.dat (MovieLens-1M) found; "
                     "point --data or SOMA_DATA at the dataset folder (see ../shared/data/README.md, or scripts/fetch_movielens.sh)", dir);
}

int soma_rec_split_official(const soma_rec_data *d, const char *dir, int fold,
                            soma_rec_ratings *train, soma_rec_ratings *test, soma_error *err) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (fold < 1 || fold > 5) return soma_fail(err, SOMA_E_ARG, "official fold %d: expected 1..5", fold);
    char base[16], tst[16];
    snprintf(base, sizeof base, "u%d.base", fold);
    snprintf(tst, sizeof tst, "u%d.test", fold);
    int rc = load_ratings_file(train, d, dir, base, "\t", err);
    if (!rc) rc = load_ratings_file(test, d, dir, tst, "\t", err);
    if (rc) {
        soma_rec_ratings_free(train);
        soma_rec_ratings_free(test);
    }
    return rc;
}
