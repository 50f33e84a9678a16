/*
 * web/db.h — the service's storage: one SQLite file in WAL mode, schema migrations versioned
 * with PRAGMA user_version, and every query a prepared statement (sqlite3_bind_*; no SQL is
 * ever built from strings). One connection per thread (web_db_thread), each with its own
 * statement cache. Errors are logged with sqlite3_errmsg and returned as -1; callers answer
 * 500 without details.
 */
#ifndef SOMA_WEB_DB_H
#define SOMA_WEB_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "soma/rec.h"

typedef struct web_db web_db;

#define WEB_DB_SCHEMA_VERSION 1
enum { WEB_DB_OK = 0, WEB_DB_ERR = -1, WEB_DB_NOTFOUND = 1, WEB_DB_EXISTS = 2 };

/* Opens (creating and migrating) the database at path. NULL on failure (logged). */
web_db *web_db_open(const char *path);
void web_db_close(web_db *db);
/* The calling thread's connection to the path given to web_db_set_path (opened on first use);
 * web_db_close_all closes every one (at shutdown, when no request runs). */
void web_db_set_path(const char *path);
web_db *web_db_thread(void);
void web_db_close_all(void);
int web_db_schema_version(web_db *db);

typedef struct web_user {
    int64_t id;
    char username[64];
    char lang[8];            /* "en" or "zh" */
    uint32_t fav_genres;     /* bit g = genre g */
    int64_t ml_id;           /* MovieLens user id, 0 for site users */
    char gender;             /* 'M', 'F', 0 */
    int age, occupation;     /* 0 / -1 unknown */
    char zip[16];
} web_user;

typedef struct web_movie {
    int64_t id;
    char title[256];
    int year;
    char release_date[16];   /* YYYY-MM-DD or "" */
    uint32_t genres;
    char cover[80];          /* uploaded cover file name ("" = generated SVG) */
    int n_ratings;
    double avg;              /* 0 when unrated */
    bool ml;                 /* imported from MovieLens */
} web_movie;

/* ---- meta / import ---------------------------------------------------------------------- */
int web_db_meta_get(web_db *db, const char *key, char *out, size_t cap); /* 0 / NOTFOUND */
int web_db_meta_set(web_db *db, const char *key, const char *value);
/* Imports users, movies, genres and ratings of d in one transaction (if the database has no
 * movies yet). Users' favourite genres are taken from fav (n_users, may be NULL). */
int web_db_import(web_db *db, const soma_rec_data *d, const uint32_t *fav);
int web_db_genres(web_db *db, char names[][32], int cap, int *n);
int64_t web_db_count(web_db *db, const char *table); /* "users" "movies" "ratings" */

/* ---- users and sessions ----------------------------------------------------------------- */
int web_db_user_create(web_db *db, const char *username, const char *pw_hash, const char *lang,
                       uint32_t fav, int64_t *id);               /* OK / EXISTS / ERR */
/* pw_hash (cap bytes) may be NULL; an account without a password hash gets "". */
int web_db_user_by_name(web_db *db, const char *username, web_user *u, char *pw_hash,
                        size_t cap);                             /* OK / NOTFOUND / ERR */
int web_db_user_get(web_db *db, int64_t id, web_user *u);        /* OK / NOTFOUND / ERR */
int web_db_user_set_prefs(web_db *db, int64_t id, uint32_t fav, const char *lang);
/* MovieLens users (demo accounts), by id, with their rating counts. */
typedef void (*web_db_user_fn)(void *ctx, const web_user *u, int n_ratings);
int web_db_demo_users(web_db *db, int offset, int limit, web_db_user_fn fn, void *ctx);
/* Site users (not MovieLens), every one, for syncing the model at start. */
int web_db_site_users(web_db *db, web_db_user_fn fn, void *ctx);

int web_db_session_create(web_db *db, const unsigned char token_hash[32], int64_t user,
                          const char *csrf, int64_t expires);
/* OK and the user and csrf token (cap >= 65) if the session exists and has not expired. */
int web_db_session_get(web_db *db, const unsigned char token_hash[32], int64_t now,
                       int64_t *user, char *csrf, size_t cap);
int web_db_session_delete(web_db *db, const unsigned char token_hash[32]);

/* ---- movies ------------------------------------------------------------------------------- */
int web_db_movie_get(web_db *db, int64_t id, web_movie *m);     /* OK / NOTFOUND / ERR */
int web_db_movie_description(web_db *db, int64_t id, char *out, size_t cap);
int web_db_movie_create(web_db *db, const char *title, int year, const char *release_date,
                        uint32_t genres, const char *description, const char *cover,
                        int64_t created_by, int64_t *id);
typedef void (*web_db_movie_fn)(void *ctx, const web_movie *m);
/* Case-insensitive (ASCII letters) substring search of titles; prefix matches first, then the
 * most rated. */
int web_db_movie_search(web_db *db, const char *q, int limit, web_db_movie_fn fn, void *ctx);
/* Movies created on the site (not MovieLens), for syncing the model at start. */
int web_db_site_movies(web_db *db, web_db_movie_fn fn, void *ctx);

/* ---- ratings ------------------------------------------------------------------------------ */
/* Inserts or replaces the user's rating (1..5) with an optional review (NULL or ""). */
int web_db_rating_put(web_db *db, int64_t user, int64_t movie, int stars, const char *review,
                      int64_t now);
/* The user's rating of a movie: OK with stars and review, or NOTFOUND. */
int web_db_rating_get(web_db *db, int64_t user, int64_t movie, int *stars, char *review,
                      size_t cap);
/* Every rating of a user: OUT malloc'd arrays (free them), *n. */
int web_db_user_ratings(web_db *db, int64_t user, int64_t **movies, int **stars, int *n);
typedef void (*web_db_review_fn)(void *ctx, const char *username, int stars, const char *review,
                                 int64_t created);
/* Reviews (ratings with a text) of a movie, newest first. */
int web_db_reviews(web_db *db, int64_t movie, int offset, int limit, web_db_review_fn fn,
                   void *ctx);
/* Site ratings newer than `since` (for replaying online updates): user, movie, stars. */
typedef void (*web_db_rating_fn)(void *ctx, int64_t user, int64_t movie, int stars);
int web_db_site_ratings_since(web_db *db, int64_t since, web_db_rating_fn fn, void *ctx);

#endif
