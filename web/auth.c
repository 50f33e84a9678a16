/*
 * web/auth.c — credentials and tokens through libsodium (see auth.h), and the login rate
 * limiter: an open-addressing table of 4096 slots keyed by a BLAKE2b hash of the key; when
 * full, the oldest entry is evicted (an attacker flooding keys can only unlock themselves
 * sooner, never lock others out longer).
 */
#include "auth.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int web_auth_init(void) {
    return sodium_init() < 0 ? -1 : 0;
}

int web_auth_hash(char out[WEB_PWHASH_MAX], const char *password, int fast) {
    unsigned long long ops = fast ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE;
    size_t mem = fast ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;
    _Static_assert(crypto_pwhash_STRBYTES <= WEB_PWHASH_MAX, "hash buffer");
    if (crypto_pwhash_str_alg(out, password, strlen(password), ops, mem,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return -1;
    return 0;
}

bool web_auth_verify(const char *hash, const char *password) {
    if (!hash || !hash[0]) return false;
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void web_auth_token(char out[WEB_TOKEN_HEX + 1]) {
    unsigned char b[32];
    randombytes_buf(b, sizeof b);
    sodium_bin2hex(out, WEB_TOKEN_HEX + 1, b, sizeof b);
    sodium_memzero(b, sizeof b);
}

bool web_auth_token_hash(unsigned char out[32], const char *token, size_t n) {
    if (n != WEB_TOKEN_HEX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = token[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    crypto_generichash(out, 32, (const unsigned char *)token, n, NULL, 0);
    return true;
}

bool web_auth_equal(const char *a, size_t an, const char *b, size_t bn) {
    if (an != bn || an == 0) return false;
    return sodium_memcmp(a, b, an) == 0;
}

/* ---- rate limiting ------------------------------------------------------------------------- */

#define RL_SLOTS 4096

typedef struct rl_entry {
    unsigned char key[16];
    int64_t window_start;
    int fails;
    bool used;
} rl_entry;

struct web_ratelimit {
    pthread_mutex_t mu;
    int max_fail, window;
    rl_entry e[RL_SLOTS];
};

web_ratelimit *web_ratelimit_create(int max_fail, int window_s) {
    web_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl) return NULL;
    pthread_mutex_init(&rl->mu, NULL);
    rl->max_fail = max_fail;
    rl->window = window_s;
    return rl;
}

void web_ratelimit_free(web_ratelimit *rl) {
    if (!rl) return;
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

/* The slot for key: its own, else a free one, else the oldest in the probe run. */
static rl_entry *rl_find(web_ratelimit *rl, const char *key, bool create) {
    unsigned char h[16];
    crypto_generichash(h, sizeof h, (const unsigned char *)key, strlen(key), NULL, 0);
    uint32_t start;
    memcpy(&start, h, sizeof start);
    rl_entry *victim = NULL;
    for (int k = 0; k < 16; k++) {
        rl_entry *e = &rl->e[(start + (uint32_t)k) % RL_SLOTS];
        if (e->used && memcmp(e->key, h, sizeof h) == 0) return e;
        if (!e->used) { if (!victim || victim->used) victim = e; }
        else if (!victim || (victim->used && e->window_start < victim->window_start)) victim = e;
    }
    if (!create) return NULL;
    memset(victim, 0, sizeof *victim);
    memcpy(victim->key, h, sizeof h);
    victim->used = true;
    return victim;
}

bool web_ratelimit_blocked(web_ratelimit *rl, const char *key, int64_t now) {
    pthread_mutex_lock(&rl->mu);
    rl_entry *e = rl_find(rl, key, false);
    bool blocked = e && now - e->window_start < rl->window && e->fails >= rl->max_fail;
    pthread_mutex_unlock(&rl->mu);
    return blocked;
}

void web_ratelimit_fail(web_ratelimit *rl, const char *key, int64_t now) {
    pthread_mutex_lock(&rl->mu);
    rl_entry *e = rl_find(rl, key, true);
    if (now - e->window_start >= rl->window) {
        e->window_start = now;
        e->fails = 0;
    }
    e->fails++;
    pthread_mutex_unlock(&rl->mu);
}

void web_ratelimit_reset(web_ratelimit *rl, const char *key) {
    pthread_mutex_lock(&rl->mu);
    rl_entry *e = rl_find(rl, key, false);
    if (e) e->used = false;
    pthread_mutex_unlock(&rl->mu);
}
