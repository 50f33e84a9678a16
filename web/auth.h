/*
 * web/auth.h — passwords, session tokens, CSRF tokens and login rate limiting, all through
 * libsodium: Argon2id (crypto_pwhash_str), randombytes_buf tokens, BLAKE2b token hashes (only
 * the hash of a session token is stored, so a copy of the database cannot log anyone in), and
 * constant-time comparisons.
 */
#ifndef SOMA_WEB_AUTH_H
#define SOMA_WEB_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "web.h"

#define WEB_TOKEN_HEX 64        /* 32 random bytes as hex */
#define WEB_PWHASH_MAX 128      /* crypto_pwhash_STRBYTES */
#define WEB_SESSION_SECONDS (14 * 24 * 3600)

int web_auth_init(void);                     /* sodium_init; -1 on failure */
/* fast = 1 uses the minimum cost (tests only). 0 or -1 (out of memory). */
int web_auth_hash(char out[WEB_PWHASH_MAX], const char *password, int fast);
bool web_auth_verify(const char *hash, const char *password);
/* A new random token as 64 hex characters + NUL. */
void web_auth_token(char out[WEB_TOKEN_HEX + 1]);
/* The stored form of a session token; false if the token is not 64 hex characters. */
bool web_auth_token_hash(unsigned char out[32], const char *token, size_t n);
bool web_auth_equal(const char *a, size_t an, const char *b, size_t bn); /* constant time */

/* A fixed-size table of failure counters keyed by a string (client address, user name):
 * at most `max_fail` failures per `window` seconds, then locked until the window passes. */
web_ratelimit *web_ratelimit_create(int max_fail, int window_s);
void web_ratelimit_free(web_ratelimit *rl);
bool web_ratelimit_blocked(web_ratelimit *rl, const char *key, int64_t now);
void web_ratelimit_fail(web_ratelimit *rl, const char *key, int64_t now);
void web_ratelimit_reset(web_ratelimit *rl, const char *key);

#endif
