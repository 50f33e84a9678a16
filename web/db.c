/*
 * web/db.c — SQLite storage for the movie site (see db.h for the contract).
 *
 * Schema migrations are the array `migrations` below: migration k brings a database from
 * user_version k to k + 1 inside one transaction, so an interrupted upgrade leaves the old
 * version. Statements live in `sql` and are prepared once per connection (persistent), then
 * reset and re-bound for each use. WAL mode lets the thread pool read while one writer writes;
 * writers wait up to busy_timeout for the lock instead of failing.
 *
 * Denormalised: movies.n_ratings and movies.sum_stars are kept in step with `ratings` inside
 * the same transaction as each rating write, so search and details need no aggregate scans.
 */
#include "db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

/* ---- schema -------------------------------------------------------------------------------- */

static const char *const migrations[WEB_DB_SCHEMA_VERSION] = {
    /* 0 -> 1 */
    "CREATE TABLE users("
    " id INTEGER PRIMARY KEY,"
    " username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
    " pw_hash TEXT,"
    " ml_id INTEGER UNIQUE,"
    " lang TEXT NOT NULL DEFAULT 'en',"
    " fav_genres INTEGER NOT NULL DEFAULT 0,"
    " gender TEXT NOT NULL DEFAULT '',"
    " age INTEGER NOT NULL DEFAULT 0,"
    " occupation INTEGER NOT NULL DEFAULT -1,"
    " zip TEXT NOT NULL DEFAULT '',"
    " created INTEGER NOT NULL);"
    "CREATE TABLE sessions("
    " token BLOB PRIMARY KEY,"
    " user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    " csrf TEXT NOT NULL,"
    " expires INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE movies("
    " id INTEGER PRIMARY KEY,"
    " ml_id INTEGER UNIQUE,"
    " title TEXT NOT NULL,"
    " year INTEGER NOT NULL DEFAULT 0,"
    " release_date TEXT NOT NULL DEFAULT '',"
    " genres INTEGER NOT NULL DEFAULT 0,"
    " description TEXT NOT NULL DEFAULT '',"
    " cover TEXT,"
    " created_by INTEGER REFERENCES users(id),"
    " created INTEGER NOT NULL,"
    " n_ratings INTEGER NOT NULL DEFAULT 0,"
    " sum_stars INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE ratings("
    " user_id INTEGER NOT NULL REFERENCES users(id),"
    " movie_id INTEGER NOT NULL REFERENCES movies(id),"
    " stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),"
    " review TEXT,"
    " created INTEGER NOT NULL,"
    " site INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (user_id, movie_id)) WITHOUT ROWID;"
    "CREATE INDEX ratings_movie ON ratings(movie_id, created);"
    "CREATE INDEX ratings_site ON ratings(site, created);"
    "CREATE TABLE genres(bit INTEGER PRIMARY KEY, name TEXT NOT NULL);"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;",
};

/* ---- statements ------------------------------------------------------------------------ */

enum {
    Q_META_GET, Q_META_SET, Q_GENRE_ADD, Q_GENRES,
    Q_USER_ADD, Q_USER_ML_ADD, Q_USER_BY_NAME, Q_USER_GET, Q_USER_PREFS, Q_DEMO_USERS,
    Q_SITE_USERS,
    Q_SESSION_ADD, Q_SESSION_GET, Q_SESSION_DEL, Q_SESSION_GC,
    Q_MOVIE_ADD, Q_MOVIE_ML_ADD, Q_MOVIE_GET, Q_MOVIE_DESC, Q_MOVIE_SEARCH, Q_SITE_MOVIES,
    Q_RATING_OLD, Q_RATING_PUT, Q_RATING_ML_ADD, Q_MOVIE_STATS, Q_RATING_GET, Q_USER_RATINGS,
    Q_REVIEWS, Q_SITE_RATINGS, Q_MOVIE_STATS_ALL,
    Q_COUNT_USERS, Q_COUNT_MOVIES, Q_COUNT_RATINGS, Q_COUNT_SESSIONS,
    Q_BEGIN, Q_BEGIN_IMM, Q_COMMIT, Q_ROLLBACK,
    Q_COUNT
};

#define USER_COLS "id, username, lang, fav_genres, coalesce(ml_id, 0), gender, age, occupation, zip"
#define MOVIE_COLS "id, title, year, release_date, genres, coalesce(cover, ''), n_ratings, " \
                   "sum_stars, ml_id IS NOT NULL"

static const char *const sql[Q_COUNT] = {
    [Q_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [Q_META_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    [Q_GENRE_ADD] = "INSERT OR REPLACE INTO genres(bit, name) VALUES (?1, ?2)",
    [Q_GENRES] = "SELECT bit, name FROM genres ORDER BY bit",
    [Q_USER_ADD] = "INSERT INTO users(username, pw_hash, lang, fav_genres, created) "
                   "VALUES (?1, ?2, ?3, ?4, ?5)",
    [Q_USER_ML_ADD] = "INSERT INTO users(id, username, pw_hash, ml_id, fav_genres, gender, age, "
                      "occupation, zip, created) VALUES (?1, ?2, NULL, ?1, ?3, ?4, ?5, ?6, ?7, 0)",
    [Q_USER_BY_NAME] = "SELECT " USER_COLS ", coalesce(pw_hash, '') FROM users WHERE username = ?1",
    [Q_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
    [Q_USER_PREFS] = "UPDATE users SET fav_genres = ?2, lang = ?3 WHERE id = ?1",
    [Q_DEMO_USERS] = "SELECT " USER_COLS ", (SELECT count(*) FROM ratings r WHERE r.user_id = "
                     "users.id) FROM users WHERE ml_id IS NOT NULL ORDER BY id LIMIT ?2 OFFSET ?1",
    [Q_SITE_USERS] = "SELECT " USER_COLS ", 0 FROM users WHERE ml_id IS NULL ORDER BY id",
    [Q_SESSION_ADD] = "INSERT INTO sessions(token, user_id, csrf, expires) VALUES (?1, ?2, ?3, ?4)",
    [Q_SESSION_GET] = "SELECT user_id, csrf FROM sessions WHERE token = ?1 AND expires > ?2",
    [Q_SESSION_DEL] = "DELETE FROM sessions WHERE token = ?1",
    [Q_SESSION_GC] = "DELETE FROM sessions WHERE expires <= ?1",
    [Q_MOVIE_ADD] = "INSERT INTO movies(title, year, release_date, genres, description, cover, "
                    "created_by, created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [Q_MOVIE_ML_ADD] = "INSERT INTO movies(id, ml_id, title, year, genres, created) "
                       "VALUES (?1, ?1, ?2, ?3, ?4, 0)",
    [Q_MOVIE_GET] = "SELECT " MOVIE_COLS " FROM movies WHERE id = ?1",
    [Q_MOVIE_DESC] = "SELECT description FROM movies WHERE id = ?1",
    /* ?1 = '%q%' (escaped), ?2 = 'q%' (escaped) */
    [Q_MOVIE_SEARCH] = "SELECT " MOVIE_COLS " FROM movies WHERE title LIKE ?1 ESCAPE '\\' "
                       "ORDER BY title LIKE ?2 ESCAPE '\\' DESC, n_ratings DESC, id LIMIT ?3",
    [Q_SITE_MOVIES] = "SELECT " MOVIE_COLS " FROM movies WHERE ml_id IS NULL ORDER BY id",
    [Q_RATING_OLD] = "SELECT stars FROM ratings WHERE user_id = ?1 AND movie_id = ?2",
    [Q_RATING_PUT] = "INSERT INTO ratings(user_id, movie_id, stars, review, created, site) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, 1) ON CONFLICT(user_id, movie_id) DO UPDATE "
                     "SET stars = excluded.stars, review = excluded.review, "
                     "created = excluded.created, site = 1",
    [Q_RATING_ML_ADD] = "INSERT OR IGNORE INTO ratings(user_id, movie_id, stars, created, site) "
                        "VALUES (?1, ?2, ?3, ?4, 0)",
    [Q_MOVIE_STATS] = "UPDATE movies SET n_ratings = n_ratings + ?2, sum_stars = sum_stars + ?3 "
                      "WHERE id = ?1",
    [Q_RATING_GET] = "SELECT stars, coalesce(review, '') FROM ratings "
                     "WHERE user_id = ?1 AND movie_id = ?2",
    [Q_USER_RATINGS] = "SELECT movie_id, stars FROM ratings WHERE user_id = ?1",
    [Q_REVIEWS] = "SELECT u.username, r.stars, r.review, r.created FROM ratings r "
                  "JOIN users u ON u.id = r.user_id WHERE r.movie_id = ?1 AND r.review IS NOT NULL "
                  "AND r.review != '' ORDER BY r.created DESC LIMIT ?3 OFFSET ?2",
    [Q_SITE_RATINGS] = "SELECT user_id, movie_id, stars FROM ratings WHERE site = 1 AND "
                       "created > ?1 ORDER BY created",
    [Q_MOVIE_STATS_ALL] = "UPDATE movies SET n_ratings = (SELECT count(*) FROM ratings r WHERE "
                          "r.movie_id = movies.id), sum_stars = (SELECT coalesce(sum(stars), 0) "
                          "FROM ratings r WHERE r.movie_id = movies.id)",
    [Q_COUNT_USERS] = "SELECT count(*) FROM users",
    [Q_COUNT_MOVIES] = "SELECT count(*) FROM movies",
    [Q_COUNT_RATINGS] = "SELECT count(*) FROM ratings",
    [Q_COUNT_SESSIONS] = "SELECT count(*) FROM sessions",
    [Q_BEGIN] = "BEGIN",
    [Q_BEGIN_IMM] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
};

struct web_db {
    sqlite3 *h;
    sqlite3_stmt *st[Q_COUNT];
    struct web_db *next; /* the registry of per-thread connections */
};

static void db_err(web_db *db, const char *what) {
    web_log("db: %s: %s", what, sqlite3_errmsg(db->h));
}

/* The prepared statement q, reset and unbound; NULL on failure (logged). */
static sqlite3_stmt *stmt(web_db *db, int q) {
    if (!db->st[q]) {
        if (sqlite3_prepare_v3(db->h, sql[q], -1, SQLITE_PREPARE_PERSISTENT, &db->st[q], NULL) !=
            SQLITE_OK) {
            db_err(db, sql[q]);
            return NULL;
        }
    } else {
        sqlite3_reset(db->st[q]);
        sqlite3_clear_bindings(db->st[q]);
    }
    return db->st[q];
}

/* Runs a statement that returns no rows; 0 or -1 (logged). */
static int done(web_db *db, sqlite3_stmt *s, const char *what) {
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        db_err(db, what);
        return WEB_DB_ERR;
    }
    return WEB_DB_OK;
}

static int exec_q(web_db *db, int q) {
    sqlite3_stmt *s = stmt(db, q);
    return s ? done(db, s, sql[q]) : WEB_DB_ERR;
}

static void text_col(sqlite3_stmt *s, int c, char *out, size_t cap) {
    const unsigned char *t = sqlite3_column_text(s, c);
    size_t n = t ? (size_t)sqlite3_column_bytes(s, c) : 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(out, t, n);
    out[n] = 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *t) {
    if (t) sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
    else sqlite3_bind_null(s, i);
}

static int migrate(web_db *db) {
    sqlite3_stmt *v;
    if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &v, NULL) != SQLITE_OK) return -1;
    int version = sqlite3_step(v) == SQLITE_ROW ? sqlite3_column_int(v, 0) : -1;
    sqlite3_finalize(v);
    if (version < 0) return -1;
    if (version > WEB_DB_SCHEMA_VERSION) {
        web_log("db: schema version %d is newer than this program's %d", version,
                WEB_DB_SCHEMA_VERSION);
        return -1;
    }
    for (int k = version; k < WEB_DB_SCHEMA_VERSION; k++) {
        /* The migration text is a constant in this file, never user input. PRAGMA cannot take
         * a bound parameter, so its number is formatted from an int. */
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", k + 1);
        if (sqlite3_exec(db->h, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db->h, migrations[k], NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db->h, pragma, NULL, NULL, NULL) != SQLITE_OK ||
            sqlite3_exec(db->h, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            db_err(db, "migration");
            sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
            return -1;
        }
        web_log("db: migrated schema to version %d", k + 1);
    }
    return 0;
}

web_db *web_db_open(const char *path) {
    web_db *db = calloc(1, sizeof *db);
    if (!db) return NULL;
    if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        web_log("db: cannot open %s: %s", path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(db->h, 10000);
    sqlite3_extended_result_codes(db->h, 1);
    if (sqlite3_exec(db->h, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; "
                            "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY",
                     NULL, NULL, NULL) != SQLITE_OK) {
        db_err(db, "pragmas");
        goto fail;
    }
    if (migrate(db) < 0) goto fail;
    return db;
fail:
    web_db_close(db);
    return NULL;
}

void web_db_close(web_db *db) {
    if (!db) return;
    for (int q = 0; q < Q_COUNT; q++) sqlite3_finalize(db->st[q]);
    sqlite3_close(db->h);
    free(db);
}

/* ---- per-thread connections ------------------------------------------------------------ */

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static web_db *reg_head;
static char reg_path[512];
static _Thread_local web_db *tl_db;
static unsigned reg_generation = 1;       /* bumped by close_all so stale tl_db is dropped */
static _Thread_local unsigned tl_generation;

void web_db_set_path(const char *path) {
    pthread_mutex_lock(&reg_mu);
    snprintf(reg_path, sizeof reg_path, "%s", path);
    pthread_mutex_unlock(&reg_mu);
}

web_db *web_db_thread(void) {
    pthread_mutex_lock(&reg_mu);
    unsigned gen = reg_generation;
    pthread_mutex_unlock(&reg_mu);
    if (tl_db && tl_generation == gen) return tl_db;
    web_db *db = web_db_open(reg_path);
    if (!db) return NULL;
    pthread_mutex_lock(&reg_mu);
    db->next = reg_head;
    reg_head = db;
    tl_db = db;
    tl_generation = reg_generation;
    pthread_mutex_unlock(&reg_mu);
    return db;
}

void web_db_close_all(void) {
    pthread_mutex_lock(&reg_mu);
    for (web_db *db = reg_head, *next; db; db = next) {
        next = db->next;
        web_db_close(db);
    }
    reg_head = NULL;
    reg_generation++;
    pthread_mutex_unlock(&reg_mu);
    tl_db = NULL;
}

int web_db_schema_version(web_db *db) {
    sqlite3_stmt *v;
    if (sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &v, NULL) != SQLITE_OK) return -1;
    int version = sqlite3_step(v) == SQLITE_ROW ? sqlite3_column_int(v, 0) : -1;
    sqlite3_finalize(v);
    return version;
}

/* ---- meta / import ------------------------------------------------------------------- */

int web_db_meta_get(web_db *db, const char *key, char *out, size_t cap) {
    sqlite3_stmt *s = stmt(db, Q_META_GET);
    if (!s) return WEB_DB_ERR;
    bind_text(s, 1, key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) { text_col(s, 0, out, cap); sqlite3_reset(s); return WEB_DB_OK; }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE) return WEB_DB_NOTFOUND;
    db_err(db, "meta get");
    return WEB_DB_ERR;
}

int web_db_meta_set(web_db *db, const char *key, const char *value) {
    sqlite3_stmt *s = stmt(db, Q_META_SET);
    if (!s) return WEB_DB_ERR;
    bind_text(s, 1, key);
    bind_text(s, 2, value);
    return done(db, s, "meta set");
}

int64_t web_db_count(web_db *db, const char *table) {
    int q = !strcmp(table, "users") ? Q_COUNT_USERS : !strcmp(table, "movies") ? Q_COUNT_MOVIES
          : !strcmp(table, "sessions") ? Q_COUNT_SESSIONS : Q_COUNT_RATINGS;
    sqlite3_stmt *s = stmt(db, q);
    if (!s) return -1;
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    return n;
}

int web_db_import(web_db *db, const soma_rec_data *d, const uint32_t *fav) {
    if (exec_q(db, Q_BEGIN_IMM)) return WEB_DB_ERR;
    for (int g = 0; g < d->n_genres; g++) {
        sqlite3_stmt *s = stmt(db, Q_GENRE_ADD);
        if (!s) goto fail;
        sqlite3_bind_int(s, 1, g);
        bind_text(s, 2, d->genres[g]);
        if (done(db, s, "import genre")) goto fail;
    }
    for (int32_t i = 0; i < d->n_users; i++) {
        const soma_rec_user *u = &d->users[i];
        sqlite3_stmt *s = stmt(db, Q_USER_ML_ADD);
        if (!s) goto fail;
        char name[32], gender[2] = {u->gender, 0};
        snprintf(name, sizeof name, "movielens-%d", (int)u->id);
        sqlite3_bind_int64(s, 1, u->id);
        bind_text(s, 2, name);
        sqlite3_bind_int64(s, 3, fav ? fav[i] : 0);
        bind_text(s, 4, gender);
        sqlite3_bind_int(s, 5, u->age);
        sqlite3_bind_int(s, 6, u->occupation);
        bind_text(s, 7, u->zip);
        if (done(db, s, "import user")) goto fail;
    }
    for (int32_t i = 0; i < d->n_movies; i++) {
        const soma_rec_movie *m = &d->movies[i];
        sqlite3_stmt *s = stmt(db, Q_MOVIE_ML_ADD);
        if (!s) goto fail;
        sqlite3_bind_int64(s, 1, m->id);
        bind_text(s, 2, m->title);
        sqlite3_bind_int(s, 3, m->year);
        sqlite3_bind_int64(s, 4, m->genres);
        if (done(db, s, "import movie")) goto fail;
    }
    for (int64_t i = 0; i < d->ratings.n; i++) {
        const soma_rec_rating *r = &d->ratings.r[i];
        sqlite3_stmt *s = stmt(db, Q_RATING_ML_ADD);
        if (!s) goto fail;
        int stars = (int)(r->rating + 0.5f);
        if (stars < 1) stars = 1;
        if (stars > 5) stars = 5;
        sqlite3_bind_int64(s, 1, d->users[r->user].id);
        sqlite3_bind_int64(s, 2, d->movies[r->movie].id);
        sqlite3_bind_int(s, 3, stars);
        sqlite3_bind_int64(s, 4, r->time);
        if (done(db, s, "import rating")) goto fail;
    }
    if (exec_q(db, Q_MOVIE_STATS_ALL)) goto fail;
    if (web_db_meta_set(db, "dataset", d->name)) goto fail;
    if (exec_q(db, Q_COMMIT)) goto fail;
    return WEB_DB_OK;
fail:
    exec_q(db, Q_ROLLBACK);
    return WEB_DB_ERR;
}

int web_db_genres(web_db *db, char names[][32], int cap, int *n) {
    sqlite3_stmt *s = stmt(db, Q_GENRES);
    if (!s) return WEB_DB_ERR;
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int bit = sqlite3_column_int(s, 0);
        if (bit < 0 || bit >= cap) continue;
        text_col(s, 1, names[bit], 32);
        if (bit + 1 > *n) *n = bit + 1;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? WEB_DB_OK : WEB_DB_ERR;
}

/* ---- users and sessions ------------------------------------------------------------- */

static void user_row(sqlite3_stmt *s, web_user *u) {
    memset(u, 0, sizeof *u);
    u->id = sqlite3_column_int64(s, 0);
    text_col(s, 1, u->username, sizeof u->username);
    text_col(s, 2, u->lang, sizeof u->lang);
    u->fav_genres = (uint32_t)sqlite3_column_int64(s, 3);
    u->ml_id = sqlite3_column_int64(s, 4);
    char g[4];
    text_col(s, 5, g, sizeof g);
    u->gender = g[0] == 'M' || g[0] == 'F' ? g[0] : 0;
    u->age = sqlite3_column_int(s, 6);
    u->occupation = sqlite3_column_int(s, 7);
    text_col(s, 8, u->zip, sizeof u->zip);
}

int web_db_user_create(web_db *db, const char *username, const char *pw_hash, const char *lang,
                       uint32_t fav, int64_t *id) {
    sqlite3_stmt *s = stmt(db, Q_USER_ADD);
    if (!s) return WEB_DB_ERR;
    bind_text(s, 1, username);
    bind_text(s, 2, pw_hash);
    bind_text(s, 3, lang);
    sqlite3_bind_int64(s, 4, fav);
    sqlite3_bind_int64(s, 5, web_time());
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_CONSTRAINT_UNIQUE) return WEB_DB_EXISTS;
    if (rc != SQLITE_DONE) { db_err(db, "user create"); return WEB_DB_ERR; }
    *id = sqlite3_last_insert_rowid(db->h);
    return WEB_DB_OK;
}

static int user_one(web_db *db, sqlite3_stmt *s, web_user *u, char *pw_hash, size_t cap) {
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        user_row(s, u);
        if (pw_hash) text_col(s, 9, pw_hash, cap);
        sqlite3_reset(s);
        return WEB_DB_OK;
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE) return WEB_DB_NOTFOUND;
    db_err(db, "user lookup");
    return WEB_DB_ERR;
}

int web_db_user_by_name(web_db *db, const char *username, web_user *u, char *pw_hash, size_t cap) {
    sqlite3_stmt *s = stmt(db, Q_USER_BY_NAME);
    if (!s) return WEB_DB_ERR;
    bind_text(s, 1, username);
    return user_one(db, s, u, pw_hash, cap);
}

int web_db_user_get(web_db *db, int64_t id, web_user *u) {
    sqlite3_stmt *s = stmt(db, Q_USER_GET);
    if (!s) return WEB_DB_ERR;
    sqlite3_bind_int64(s, 1, id);
    return user_one(db, s, u, NULL, 0);
}

int web_db_user_set_prefs(web_db *db, int64_t id, uint32_t fav, const char *lang) {
    sqlite3_stmt *s = stmt(db, Q_USER_PREFS);
    if (!s) return WEB_DB_ERR;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, fav);
    bind_text(s, 3, lang);
    return done(db, s, "user prefs");
}

static int users_each(web_db *db, sqlite3_stmt *s, web_db_user_fn fn, void *ctx) {
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        web_user u;
        user_row(s, &u);
        fn(ctx, &u, sqlite3_column_int(s, 9));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) { db_err(db, "users"); return WEB_DB_ERR; }
    return WEB_DB_OK;
}

int web_db_demo_users(web_db *db, int offset, int limit, web_db_user_fn fn, void *ctx) {
    sqlite3_stmt *s = stmt(db, Q_DEMO_USERS);
    if (!s) return WEB_DB_ERR;
    sqlite3_bind_int(s, 1, offset);
    sqlite3_bind_int(s, 2, limit);
    return users_each(db, s, fn, ctx);
}

int web_db_site_users(web_db *db, web_db_user_fn fn, void *ctx) {
    sqlite3_stmt *s = stmt(db, Q_SITE_USERS);
    return s ? users_each(db, s, fn, ctx) : WEB_DB_ERR;
}

int web_db_session_create(web_db *db, const unsigned char token_hash[32], int64_t user,
                          const char *csrf, int64_t expires) {
    sqlite3_stmt *g = stmt(db, Q_SESSION_GC);
    if (g) {
        sqlite3_bind_int64(g, 1, web_time());
        done(db, g, "session gc");
    }
    sqlite3_stmt *s = stmt(db, Q_SESSION_ADD);
    if (!s) return WEB_DB_ERR;
    sqlite3_bind_blob(s, 1, token_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, user);
    bind_text(s, 3, csrf);
    sqlite3_bind_int64(s, 4, expires);
    return done(db, s, "session create");
}

int web_db_session_get(web_db *db, const unsigned char token_hash[32], int64_t now,
                       int64_t *user, char *csrf, size_t cap) {
    sqlite3_stmt *s = stmt(db, Q_SESSION_GET);
    if (!s) return WEB_DB_ERR;
    sqlite3_bind_blob(s, 1, token_hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *user = sqlite3_column_int64(s, 0);
        text_col(s, 1, csrf, cap);
        sqlite3_reset(s);
        return WEB_DB_OK;
    }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE) return WEB_DB_NOTFOUND;
    db_err(db, "session get");
    return WEB_DB_ERR;
}

int web_db_session_delete(web_db *db, const unsigned char token_hash[32]) {
    sqlite3_stmt *s = stmt(db, Q_SESSION_DEL);
    if (!s) return WEB_DB_ERR;
    sqlite3_bind_blob(s, 1, token_hash, 32, SQLITE_STATIC);
    return done(db, s, "session delete");
}

/* ---- movies ---------------------------------------------------------------------------- */

static void movie_row(sqlite3_stmt *s, web_movie *m) {
    memset(m, 0, sizeof *m);
    m->id = sqlite3_column_int64(s, 0);
    text_col(s, 1, m->title, sizeof m->title);
    m->year = sqlite3_column_int(s, 2);
    text_col(s, 3, m->release_date, sizeof m->release_date);
    m->genres = (uint32_t)sqlite3_column_int64(s, 4);
    text_col(s, 5, m->cover, sizeof m->cover);
    m->n_ratings = sqlite3_column_int(s, 6);
    int64_t sum = sqlite3_column_int64(s, 7);
    m->avg = m->n_ratings ? (double)sum / m->n_ratings : 0.0;
    m->ml = sqlite3_column_int(s, 8) != 0;
}

int web_db_movie_get(web_db *db, int64_t id, web_movie *m) {
    sqlite3_stmt *s = stmt(db, Q_MOVIE_GET);
    if (!s) return WEB_DB_ERR;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) { movie_row(s, m); sqlite3_reset(s); return WEB_DB_OK; }
    sqlite3_reset(s);
    if (rc == SQLITE_DONE) return WEB_DB_NOTFOUND;
    db_err(db, "movie get");
    return WEB_DB_ERR;
}

int web_db_movie_description(web_db *db, int64_t id, char *out, size_t cap) {
    sqlite3_stmt *s = stmt(db, Q_MOVIE_DESC);
    if (!s) return WEB_DB_ERR;
    sqlite3_bind_int64(s, 1, id);
    out[0] = 0;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) text_col(s, 0, out, cap);
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? WEB_DB_OK : rc == SQLITE_DONE ? WEB_DB_NOTFOUND : WEB_DB_ERR;
}

int web_db_movie_create(web_db *db, const char *title, int year, const char *release_date,
                        uint32_t genres, const char *description, const char *cover,
                        int64_t created_by, int64_t *id) {
    sqlite3_stmt *s = stmt(db, Q_MOVIE_ADD);
    if (!s) return WEB_DB_ERR;
    bind_text(s, 1, title);
    sqlite3_bind_int(s, 2, year);
    bind_text(s, 3, release_date ? release_date : "");
    sqlite3_bind_int64(s, 4, genres);
    bind_text(s, 5, description ? description : "");
    bind_text(s, 6, cover && cover[0] ? cover : NULL);
    if (created_by > 0) sqlite3_bind_int64(s, 7, created_by);
    sqlite3_bind_int64(s, 8, web_time());
    if (done(db, s, "movie create")) return WEB_DB_ERR;
    *id = sqlite3_last_insert_rowid(db->h);
    return WEB_DB_OK;
}

static int movies_each(web_db *db, sqlite3_stmt *s, web_db_movie_fn fn, void *ctx) {
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        web_movie m;
        movie_row(s, &m);
        fn(ctx, &m);
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) { db_err(db, "movies"); return WEB_DB_ERR; }
    return WEB_DB_OK;
}

/* Escapes LIKE's wildcards (% _ \) so the user's text matches literally. */
static void like_escape(char *out, const char *q, bool leading) {
    char *o = out;
    if (leading) *o++ = '%';
    for (const char *p = q; *p; p++) {
        if (*p == '%' || *p == '_' || *p == '\\') *o++ = '\\';
        *o++ = *p;
    }
    *o++ = '%';
    *o = 0;
}

int web_db_movie_search(web_db *db, const char *q, int limit, web_db_movie_fn fn, void *ctx) {
    size_t n = strlen(q);
    char *any = malloc(2 * n + 3), *pre = malloc(2 * n + 3);
    if (!any || !pre) { free(any); free(pre); return WEB_DB_ERR; }
    like_escape(any, q, true);
    like_escape(pre, q, false);
    sqlite3_stmt *s = stmt(db, Q_MOVIE_SEARCH);
    int rc = WEB_DB_ERR;
    if (s) {
        bind_text(s, 1, any);
        bind_text(s, 2, pre);
        sqlite3_bind_int(s, 3, limit);
        rc = movies_each(db, s, fn, ctx);
        sqlite3_clear_bindings(s); /* any/pre are freed below */
    }
    free(any);
    free(pre);
    return rc;
}

int web_db_site_movies(web_db *db, web_db_movie_fn fn, void *ctx) {
    sqlite3_stmt *s = stmt(db, Q_SITE_MOVIES);
    return s ? movies_each(db, s, fn, ctx) : WEB_DB_ERR;
}

/* ---- ratings ----------------------------------------------------------------------------- */

int web_db_rating_put(web_db *db, int64_t user, int64_t movie, int stars, const char *review,
                      int64_t now) {
    if (exec_q(db, Q_BEGIN_IMM)) return WEB_DB_ERR;
    sqlite3_stmt *s = stmt(db, Q_RATING_OLD);
    if (!s) goto fail;
    sqlite3_bind_int64(s, 1, user);
    sqlite3_bind_int64(s, 2, movie);
    int rc = sqlite3_step(s);
    int old = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) { db_err(db, "rating old"); goto fail; }
    s = stmt(db, Q_RATING_PUT);
    if (!s) goto fail;
    sqlite3_bind_int64(s, 1, user);
    sqlite3_bind_int64(s, 2, movie);
    sqlite3_bind_int(s, 3, stars);
    bind_text(s, 4, review && review[0] ? review : NULL);
    sqlite3_bind_int64(s, 5, now);
    if (done(db, s, "rating put")) goto fail;
    s = stmt(db, Q_MOVIE_STATS);
    if (!s) goto fail;
    sqlite3_bind_int64(s, 1, movie);
    sqlite3_bind_int(s, 2, old ? 0 : 1);
    sqlite3_bind_int(s, 3, stars - old);
    if (done(db, s, "movie stats")) goto fail;
    if (exec_q(db, Q_COMMIT)) goto fail;
    return WEB_DB_OK;
fail:
    exec_q(db, Q_ROLLBACK);
    return WEB_DB_ERR;
}

int web_db_rating_get(web_db *db, int64_t user, int64_t movie, int *stars, char *review,
                      size_t cap) {
    sqlite3_stmt *s = stmt(db, Q_RATING_GET);
    if (!s) return WEB_DB_ERR;
    sqlite3_bind_int64(s, 1, user);
    sqlite3_bind_int64(s, 2, movie);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *stars = sqlite3_column_int(s, 0);
        text_col(s, 1, review, cap);
    }
    sqlite3_reset(s);
    return rc == SQLITE_ROW ? WEB_DB_OK : rc == SQLITE_DONE ? WEB_DB_NOTFOUND : WEB_DB_ERR;
}

int web_db_user_ratings(web_db *db, int64_t user, int64_t **movies, int **stars, int *n) {
    *movies = NULL;
    *stars = NULL;
    *n = 0;
    sqlite3_stmt *s = stmt(db, Q_USER_RATINGS);
    if (!s) return WEB_DB_ERR;
    sqlite3_bind_int64(s, 1, user);
    int cap = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            int64_t *m2 = realloc(*movies, (size_t)cap * sizeof **movies);
            if (m2) *movies = m2;
            int *s2 = realloc(*stars, (size_t)cap * sizeof **stars);
            if (s2) *stars = s2;
            if (!m2 || !s2) { rc = SQLITE_NOMEM; break; }
        }
        (*movies)[*n] = sqlite3_column_int64(s, 0);
        (*stars)[*n] = sqlite3_column_int(s, 1);
        (*n)++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        free(*movies);
        free(*stars);
        *movies = NULL;
        *stars = NULL;
        *n = 0;
        web_log("db: user ratings failed");
        return WEB_DB_ERR;
    }
    return WEB_DB_OK;
}

int web_db_reviews(web_db *db, int64_t movie, int offset, int limit, web_db_review_fn fn,
                   void *ctx) {
    sqlite3_stmt *s = stmt(db, Q_REVIEWS);
    if (!s) return WEB_DB_ERR;
    sqlite3_bind_int64(s, 1, movie);
    sqlite3_bind_int(s, 2, offset);
    sqlite3_bind_int(s, 3, limit);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(ctx, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int(s, 1),
           (const char *)sqlite3_column_text(s, 2), sqlite3_column_int64(s, 3));
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) { db_err(db, "reviews"); return WEB_DB_ERR; }
    return WEB_DB_OK;
}

int web_db_site_ratings_since(web_db *db, int64_t since, web_db_rating_fn fn, void *ctx) {
    sqlite3_stmt *s = stmt(db, Q_SITE_RATINGS);
    if (!s) return WEB_DB_ERR;
    sqlite3_bind_int64(s, 1, since);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(ctx, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int(s, 2));
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) { db_err(db, "site ratings"); return WEB_DB_ERR; }
    return WEB_DB_OK;
}
