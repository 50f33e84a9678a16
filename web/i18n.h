/*
 * web/i18n.h — the site's two languages, English ("en") and Simplified Chinese ("zh"): the
 * strings of the pages (sent to the browser as one JSON object) and of API error messages,
 * and the genre names. A user's language is stored with the account; before log-in it comes
 * from the request (?lang= or Accept-Language).
 */
#ifndef SOMA_WEB_I18N_H
#define SOMA_WEB_I18N_H

#include <jansson.h>

/* Normalises a language tag: "zh", "zh-CN", "zh_cn" -> "zh"; anything else -> "en". */
const char *web_i18n_lang(const char *tag);
/* The string for key in lang (English if missing, the key itself if unknown). */
const char *web_i18n(const char *lang, const char *key);
/* A genre's display name (the catalogue's English name, or its translation). */
const char *web_i18n_genre(const char *lang, const char *english);
/* Every page string of lang as a JSON object (new reference). */
json_t *web_i18n_table(const char *lang);

#endif
